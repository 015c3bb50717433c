"""record.py: frame-exact recordings (MP4 decoded back, PNG sequence) and one-line input errors."""

import json
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from tests.sketches.conftest import make_layout

from layoutfile import read_layout
from sketches.lib.layout import grid_size, world_positions
from sketches.lib.layout import GRID_IMAGE_SIZE as IMAGE_SIZE
from sketches.lib.view import View

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "sketches" / "record.py"
W, H, FPS = 160, 90, 10
# 0.3 s at blur t-SNE, a 0.6 s fly to the grid, 0.3 s there: 1.2 s = 12 frames at 10 fps
PLAYLIST = {"fly": 0.6, "hold": 0.3, "easing": "linear", "loop": False,
            "steps": [{"layout": "blur", "state": "tsne"}, {"layout": "blur", "state": "grid"}]}


def record(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RECORD), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def playlist_file(tmp_path):
    path = tmp_path / "playlist.json"
    path.write_text(json.dumps(PLAYLIST))
    return path


def image_colours(layout_path: Path) -> np.ndarray:
    """Each image's colour, read from its cell of the smallest atlas level (the test cells are solid)."""
    doc = read_layout(layout_path)
    level = min(doc["atlas"]["levels"], key=lambda level: level["cell_px"])
    cell, k = level["cell_px"], level["sheet_px"] // level["cell_px"]
    sheets = [np.asarray(Image.open(layout_path.parent / f).convert("RGB")) for f in level["files"]]
    return np.array([sheets[im["atlas_sheet"]][(im["atlas_cell"] // k) * cell + cell // 2,
                                               (im["atlas_cell"] % k) * cell + cell // 2] for im in doc["images"]])


def colours_at(frame: np.ndarray, layout_path: Path, layout: str, state: str) -> np.ndarray:
    """The frame's pixel colour in each image's square where (layout, state) puts it (right of the centre:
    the test atlas marks the top-left quarter of one image; some t-SNE squares overlap a little)."""
    doc = read_layout(layout_path)
    view = View(W, H, *grid_size(doc))
    x, y = view.to_screen(*world_positions(doc)[layout, state][:, :2].T)
    return frame[np.round(y).astype(int), np.round(x + IMAGE_SIZE * view.scale * 0.15).astype(int)].astype(int)


def decode(path: Path) -> tuple[dict, list[np.ndarray]]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return meta, [np.frombuffer(f, np.uint8).reshape(height, width, 3).astype(int) for f in reader]


def test_records_an_exact_number_of_frames_as_the_images_fly(layout_path, playlist_file, tmp_path):
    out = tmp_path / "clips" / "fly.mp4"
    result = record(layout_path, "-o", out, "--size", f"{W}x{H}", "--fps", FPS, "--playlist", playlist_file)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}: 12 frames of {W}x{H} at 10 fps" in result.stdout
    assert [p.name for p in out.parent.iterdir()] == ["fly.mp4"]          # no temporary file left
    meta, frames = decode(out)
    assert meta["size"] == (W, H) and meta["fps"] == FPS and meta["codec"].startswith("h264")
    assert len(frames) == 12

    colours = image_colours(layout_path)
    # frame 0: every image at its blur t-SNE place; the last frame: at its blur grid cell (H.264 is lossy)
    assert np.abs(colours_at(frames[0], layout_path, "blur", "tsne") - colours).max() < 40
    assert np.abs(colours_at(frames[-1], layout_path, "blur", "grid") - colours).max() < 40
    # still while holding, moving while flying (frames 3..9 are t = 0.3 .. 0.9 s)
    change = [np.abs(b - a).mean() for a, b in zip(frames, frames[1:])]
    assert max(change[:2]) < 0.5 and max(change[-2:]) < 0.5
    assert min(change[3:8]) > 2 * max(max(change[:2]), max(change[-2:]), 0.1)


def test_png_sequence_with_a_looping_duration_returns_to_the_first_picture(layout_path, playlist_file, tmp_path):
    out = tmp_path / "frames"
    result = record(layout_path, "-o", out, "--size", "161x91", "--fps", FPS, "--playlist", playlist_file,
                    "--duration", 2.4, "--png")
    assert result.returncode == 0, result.stderr
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"frame_{k:06d}.png" for k in range(24)]
    frames = [np.asarray(Image.open(f).convert("RGB")).astype(int) for f in files]
    assert frames[0].shape == (91, 161, 3)
    # the loop flies back to blur t-SNE at 1.2 s (arrives at 1.8 s) and leaves again at 2.1 s
    for k in (18, 19, 20):
        assert np.abs(frames[k] - frames[0]).mean() < 0.05
    assert np.abs(frames[11] - frames[0]).mean() > 5           # at the grid
    assert np.abs(frames[23] - frames[20]).mean() > 1          # on the way to the grid again


@pytest.mark.parametrize("case, message", [
    ("missing layout", "no such layout file"),
    ("broken layout", "not valid JSON"),
    ("bad playlist", "steps[0]: 'state' must be one of tsne, grid"),
    ("playlist with another file's layout", "steps[0]: layout 'colour' is not one of"),
    ("missing playlist", "no such playlist file"),
])
def test_bad_input_gives_one_line_and_no_output(case, message, layout_path, tmp_path):
    playlist = tmp_path / "playlist.json"
    playlist.write_text(json.dumps({"steps": [{"layout": "colour" if "layout" in case else "blur",
                                               "state": "grid" if "layout" in case else "spiral"}]}))
    args = [layout_path, "-o", tmp_path / "out.mp4", "--size", "64x36"]
    if case == "missing layout":
        args[0] = tmp_path / "nope.json"
    elif case == "broken layout":
        broken = tmp_path / "broken.json"
        broken.write_text(layout_path.read_text()[:100])
        args[0] = broken
    elif case.startswith("playlist") or case == "bad playlist":
        args += ["--playlist", playlist]
    else:
        args += ["--playlist", tmp_path / "nope.json"]
    result = record(*args, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_odd_video_size_is_refused_before_anything_runs(layout_path, tmp_path):
    result = record(layout_path, "-o", tmp_path / "out.mp4", "--size", "161x91", timeout=60)
    assert result.returncode == 2
    assert "--size 161x91: H.264 video needs an even width and height" in result.stderr


def test_the_default_recording_moves_from_its_first_second_through_every_layout(tmp_path):
    """No --playlist: every layout of the file (here three), flying from frame 0 (no opening hold); no JOGL
    X11Util lines on exit."""
    layout_path = make_layout(tmp_path / "three", third=True)
    out = tmp_path / "frames"
    result = record(layout_path, "-o", out, "--size", f"{W}x{H}", "--fps", FPS, "--duration", 1, "--png")
    assert result.returncode == 0, result.stderr
    assert "X11Util" not in result.stderr + result.stdout
    frames = [np.asarray(Image.open(f).convert("RGB")).astype(int) for f in sorted(out.iterdir())]
    assert len(frames) == 10
    colours = image_colours(layout_path)
    assert np.abs(colours_at(frames[0], layout_path, "blur", "tsne") - colours).max() < 10
    assert np.abs(frames[9] - frames[2]).mean() > 2             # 0.9 s vs 0.2 s: clearly moved
    assert min(np.abs(b - a).mean() for a, b in zip(frames[3:9], frames[4:10])) > 0.2   # and moving all along


def test_a_playlist_may_name_any_layout_of_the_file(tmp_path):
    layout_path = make_layout(tmp_path / "three", third=True)
    playlist = tmp_path / "third.json"
    playlist.write_text(json.dumps({"fly": 0.5, "hold": 0.2, "easing": "linear", "loop": False,
                                    "steps": [{"layout": "third", "state": "grid"}, {"layout": "blur", "state": "tsne"}]}))
    out = tmp_path / "frames"
    result = record(layout_path, "-o", out, "--size", f"{W}x{H}", "--fps", FPS, "--playlist", playlist, "--png")
    assert result.returncode == 0, result.stderr
    frames = [np.asarray(Image.open(f).convert("RGB")).astype(int) for f in sorted(out.iterdir())]
    assert len(frames) == 9                                      # 0.2 + 0.5 + 0.2 s
    colours = image_colours(layout_path)
    assert np.abs(colours_at(frames[0], layout_path, "third", "grid") - colours).max() < 10
    assert np.abs(colours_at(frames[-1], layout_path, "blur", "tsne") - colours).max() < 10


@pytest.mark.parametrize("size", ["17000x200", "100000x100000", "20000x11250"])
def test_a_size_no_graphics_card_draws_is_one_line_before_java(layout_path, tmp_path, size):
    """Issue 19: 17000x200 printed a Java trace and never exited."""
    result = record(layout_path, "-o", tmp_path / "out.mp4", "--size", size, "--duration", "0.1", timeout=30)
    assert result.returncode == 2 and not (tmp_path / "out.mp4").exists()
    assert result.stderr.strip().splitlines() == [
        f"error: --size {size}: larger than 16384 px a side (the texture limit of common graphics cards); "
        "use a smaller size"]


CARD_LIMIT = """
import sys
import sketches.recorder_sketch as recorder
real = recorder.max_texture_size
recorder.max_texture_size = lambda: min(real(), 128)   # a card whose textures stop at 128 px
from sketches.record import main
main(sys.argv[1:])
"""


def test_a_size_above_the_running_cards_limit_ends_the_recording_with_one_line(layout_path, tmp_path):
    result = subprocess.run([sys.executable, "-c", CARD_LIMIT, str(layout_path), "-o", str(tmp_path / "out.mp4"),
                             "--size", "160x90", "--duration", "0.2"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and not (tmp_path / "out.mp4").exists()
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: recording failed (%s not written): --size 160x90: larger than 128 px a side (this "
                      "graphics card's limit); use a smaller size" % (tmp_path / "out.mp4")], result.stderr
    assert "Traceback" not in result.stderr
