"""Posters of a hand-built layout of solid-colour images, read back as pixels."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from embed import __version__
from embed.poster import add_poster_arguments, make_poster, run_poster
from layoutfile import UserError, build_layout, read_layout, write_layout
from layoutfile.trust import sign_source, trusted_source

CELL = 16


def write_test_layout(tmp_path, made, grid, tsne, cols, rows, source=True, **display):
    """A layout of `made` images, both layouts sharing `grid`/`tsne` (and `display`: tsne_display,
    tsne_image_size); return its path."""
    folder = made[0][0].parent
    images = [{"id": f"{i:016x}", "path": path.name, "width": 48, "height": 32, "atlas_sheet": 0, "atlas_cell": i}
              for i, (path, _) in enumerate(made)]
    layouts = {name: {"label": name, "tsne": tsne, "grid": grid, **display} for name in ("blur", "combined")}
    params = {"source": str(folder), "source_signature": sign_source(str(folder))} if source else {}
    doc = build_layout(generator_version=__version__, params=params,
                       atlas_levels=[{"cell_px": 32, "sheet_px": 2048, "files": ["dummy.jpg"]}],
                       images=images, cols=cols, rows=rows, layouts=layouts, skipped=[])
    path = tmp_path / "out" / "layout.json"
    write_layout(path, doc)
    return path


def centre(poster: np.ndarray, x: float, y: float) -> np.ndarray:
    return poster[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2].reshape(-1, 3).astype(int)


@pytest.mark.parametrize("suffix, tolerance", [(".png", 0), (".jpg", 10)])
def test_grid_poster_puts_each_image_in_its_cell(make_images, tmp_path, suffix, tolerance):
    made = make_images(n=6)
    grid = [[2, 0], [0, 1], [1, 1], [0, 2], [2, 2], [1, 0]]  # (col, row); cells (0,0), (2,1), (1,2) empty
    layout = write_test_layout(tmp_path, made, grid, [[0, 0]] * 6, cols=3, rows=3)
    out = make_poster(layout, tmp_path / f"poster{suffix}", cell_px=CELL, background=(0, 0, 0), progress=False)
    poster = np.asarray(Image.open(out))
    assert poster.shape == (3 * CELL, 3 * CELL, 3)
    for (col, row), (_, colour) in zip(grid, made):
        x, y = col * CELL, row * CELL
        assert np.abs(poster[y + 2:y + CELL - 2, x + 2:x + CELL - 2].astype(int) - colour).max() <= tolerance
    for col, row in [(0, 0), (2, 1), (1, 2)]:
        assert poster[row * CELL + 3:(row + 1) * CELL - 3, col * CELL + 3:(col + 1) * CELL - 3].max() <= tolerance


def test_transparent_images_are_composited_as_in_the_atlas_not_on_the_poster_background(tmp_path):
    """A black shape on a transparent background (clip art) stays visible on a black poster."""
    folder = tmp_path / "images"
    folder.mkdir()
    alpha = Image.new("L", (48, 32), 0)
    alpha.paste(255, (16, 8, 32, 24))                            # opaque black square in the middle
    Image.merge("RGBA", (*[Image.new("L", (48, 32), 0)] * 3, alpha)).convert("P").save(folder / "img_000.png")
    layout = write_test_layout(tmp_path, [(folder / "img_000.png", None)], [[0, 0]], [[0, 0]], cols=1, rows=1)
    poster = np.asarray(Image.open(make_poster(layout, tmp_path / "p.png", cell_px=CELL, background=(0, 0, 0),
                                               progress=False))).astype(int)
    assert poster[1, 1].min() >= 250                             # transparent corner: white, as in the atlas
    assert poster[CELL // 2, CELL // 2].max() <= 5               # the shape itself: black


def test_tsne_poster_places_images_at_their_points_later_ones_on_top(make_images, tmp_path):
    made = make_images(n=4)
    tsne = [[0, 0], [1, 1], [0.5, 0.5], [0.2, 0.8]]  # the last straddles two bands and overlaps the third
    layout = write_test_layout(tmp_path, made, [[0, 0], [1, 0], [2, 0], [0, 1]], tsne, cols=3, rows=3)
    out = make_poster(layout, tmp_path / "scatter.png", state="tsne", cell_px=CELL, background=(7, 7, 7),
                      progress=False)
    poster = np.asarray(Image.open(out))
    room = 3 * CELL - CELL  # square canvas, cloud spans [0,1]² → top-left = point * room
    for (x, y), (_, colour) in zip(tsne, made):
        assert (centre(poster, x * room + CELL / 2, y * room + CELL / 2) == colour).all()
    assert (centre(poster, 10, 40) == made[3][1]).all()  # last spans x 6..22, y 26..42: its lower band
    assert (centre(poster, 19, 29) == made[3][1]).all()  # where it overlaps the third (16..32), it wins
    assert (centre(poster, 3 * CELL - 3, 2) == 7).all()  # top-right corner is background


def test_tsne_poster_draws_the_display_positions_at_the_tsne_image_size(make_images, tmp_path):
    made = make_images(n=3)
    display = [[0, 0], [1, 0], [0.5, 0.5]]                  # not the raw map: the poster must use these
    layout = write_test_layout(tmp_path, made, [[0, 0], [1, 0], [2, 0]], [[0.5, 0.5], [0, 0], [1, 1]], cols=3, rows=3,
                               tsne_display=display, tsne_image_size=0.5)
    out = make_poster(layout, tmp_path / "display.png", state="tsne", cell_px=CELL, background=(7, 7, 7),
                      progress=False)
    poster = np.asarray(Image.open(out))
    room = 3 * CELL - CELL                                  # centres span CELL / 2 .. 5 CELL / 2, as in the sketch
    for (x, y), (_, colour) in zip(display, made):
        cx, cy = x * room + CELL / 2, y * room + CELL        # the cloud is 1 x 0.5: centred vertically
        assert (centre(poster, cx, cy) == colour).all()
        assert (poster[int(cy), int(cx - CELL / 4) + 1] == colour).all()     # half a cell wide …
        assert (poster[int(cy), int(cx - CELL / 4) - 2] == 7).all()          # … and no wider


def test_missing_originals_are_left_empty_and_counted(make_images, tmp_path):
    made = make_images(n=3)
    layout = write_test_layout(tmp_path, made, [[0, 0], [1, 0], [2, 0]], [[0, 0], [0.5, 0], [1, 0]], cols=3, rows=1)
    made[1][0].unlink()
    with pytest.warns(UserWarning, match=r"1 of 3 images missing or unreadable .* img_001.png"):
        out = make_poster(layout, tmp_path / "p.png", cell_px=CELL, background=(0, 0, 0), progress=False)
    poster = np.asarray(Image.open(out))
    assert poster[:, CELL:2 * CELL].max() == 0 and (centre(poster, 8, 8) == made[0][1]).all()


def test_cli_arguments_run_and_report(make_images, tmp_path, capsys):
    made = make_images(n=2, folder="pics")
    layout = write_test_layout(tmp_path, made, [[0, 0], [1, 0]], [[0, 0], [1, 1]], cols=2, rows=1, source=False)
    parser = argparse.ArgumentParser()
    add_poster_arguments(parser)
    args = parser.parse_args([str(layout), "-o", str(tmp_path / "cli.jpg"), "--cell", "32", "--state", "grid",
                              "--layout", "blur", "--source", str(made[0][0].parent), "--no-progress",
                              "--background", "#ff00ff", "--fit", "pad"])
    assert run_poster(args) == 0
    assert "64x32 px" in capsys.readouterr().out
    poster = np.asarray(Image.open(tmp_path / "cli.jpg"), dtype=int)
    assert np.abs(poster[16, 16] - made[0][1]).max() <= 10 and np.abs(poster[16, 48] - made[1][1]).max() <= 10
    assert np.abs(poster[2, 16] - (255, 0, 255)).max() <= 10  # 48x32 padded: magenta bars above and below


def test_bad_requests_are_user_errors(make_images, tmp_path):
    made = make_images(n=2) * 20   # 40 entries in a row: 81,920 px wide at 2,048 px cells
    layout = write_test_layout(tmp_path, made, [[i, 0] for i in range(40)], [[0, 0]] * 40, cols=40, rows=1)
    with pytest.raises(UserError, match="too large for JPEG"):
        make_poster(layout, tmp_path / "huge.jpg", cell_px=2048, progress=False)
    with pytest.raises(UserError, match="--source"):
        make_poster(layout, tmp_path / "p.png", source=tmp_path / "nowhere", progress=False)
    with pytest.raises(UserError, match="unknown image format"):
        make_poster(layout, tmp_path / "p.xyz", progress=False)
    assert not (tmp_path / "huge.jpg").exists() and not (tmp_path / "p.png").exists()


def test_a_fifo_among_the_originals_is_left_empty_without_blocking(make_images, tmp_path, no_hang):
    made = make_images(n=2)
    layout = write_test_layout(tmp_path, made, [[0, 0], [1, 0]], [[0, 0], [1, 1]], cols=2, rows=1)
    made[1][0].unlink()
    os.mkfifo(made[1][0])
    with pytest.warns(UserWarning, match=r"1 of 2 images missing or unreadable .* img_001.png"):
        out = make_poster(layout, tmp_path / "p.png", cell_px=CELL, background=(0, 0, 0), progress=False)
    poster = np.asarray(Image.open(out))
    assert poster[:, CELL:].max() == 0 and (poster[8, 8] == made[0][1]).all()


def test_absurd_poster_sizes_are_refused(make_images, tmp_path):
    made = make_images(n=2) * 256   # 512 entries on a 600 x 1 grid: 2,457,600 x 4,096 px at 4,096 px cells
    layout = write_test_layout(tmp_path, made, [[i, 0] for i in range(512)], [[0, 0]] * 512, cols=600, rows=1)
    with pytest.raises(UserError, match="cell size must be 1 to 4096 pixels"):
        make_poster(layout, tmp_path / "p.png", cell_px=5000, progress=False)
    with pytest.raises(UserError, match=r"2457600x4096 px poster of 4096 px cells is too large \(at most 8,589,934,592"):
        make_poster(layout, tmp_path / "p.png", cell_px=4096, progress=False)
    with pytest.raises(UserError, match="bands of 1024 MiB"):   # 614,400 px wide: a band of 1.9 GB
        make_poster(layout, tmp_path / "p.png", cell_px=1024, progress=False)
    assert not (tmp_path / "p.png").exists()


OPENS_LOGGED = """
import sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
from embed.cli import main
status = main(sys.argv[1:])
print("\\n".join(opened))
sys.exit(status)
"""


def poster_command(*argv: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `embed poster ARGV`; return the process and every path it opened (audit hook)."""
    done = subprocess.run([sys.executable, "-c", OPENS_LOGGED, "poster", *argv], capture_output=True, text=True,
                          timeout=120)
    return done, done.stdout.splitlines()


def test_a_recorded_source_outside_the_layout_is_not_opened_unless_named(make_images, tmp_path):
    """Issue 19: a layout naming "source": "/tmp/secret" made `embed poster` draw the images there."""
    made = make_images(n=4)
    secret = made[0][0].parent
    path = write_test_layout(tmp_path, made, [[0, 0], [1, 0], [0, 1], [1, 1]], [[0, 0]] * 4, 2, 2, source=False)
    doc = read_layout(path)
    out = tmp_path / "poster.png"
    for recorded, signature in ((str(secret), None), ("../images", None), (str(secret), "0" * 32),
                                (str(secret), sign_source("/somewhere/else"))):
        doc["params"] = {"source": recorded, **({"source_signature": signature} if signature else {})}
        write_layout(path, doc)
        done, opened = poster_command(str(path), "-o", str(out), "--cell", "8")
        assert done.returncode == 2 and not out.exists(), done.stderr
        assert done.stderr.count("\n") == 1 and "is outside the layout's folder and was not recorded by this " \
            "user's embed; pass the originals' folder with --source" in done.stderr
        assert str(path) in opened and not [f for f in opened if f.startswith(str(secret))]   # nothing read there
    done, opened = poster_command(str(path), "-o", str(out), "--cell", "8", "--source", str(secret))
    assert done.returncode == 0 and out.exists() and str(made[0][0]) in opened, done.stderr
    doc["params"] = {"source": str(secret), "source_signature": sign_source(str(secret))}   # as this user's embed
    write_layout(path, doc)
    out.unlink()
    done, _ = poster_command(str(path), "-o", str(out), "--cell", "8")
    assert done.returncode == 0 and out.exists(), done.stderr


def test_a_source_inside_the_layouts_folder_is_trusted_unsigned(make_images, tmp_path):
    made = make_images(n=2, folder="out/images")
    path = write_test_layout(tmp_path, made, [[0, 0], [1, 0]], [[0, 0], [1, 1]], 2, 1, source=False)
    doc = read_layout(path)
    doc["params"] = {"source": "images"}                                 # a layout shared with its images
    write_layout(path, doc)
    assert trusted_source(read_layout(path), path) == tmp_path / "out" / "images"
    (tmp_path / "out" / "link").symlink_to(tmp_path)                      # links are resolved
    doc["params"] = {"source": "link/out/images"}
    write_layout(path, doc)
    assert trusted_source(read_layout(path), path) == tmp_path / "out" / "link" / "out" / "images"   # inside
    doc["params"] = {"source": "link"}
    write_layout(path, doc)
    assert trusted_source(read_layout(path), path) is None


def test_the_poster_shows_the_files_first_layout_unless_told(make_images, tmp_path):
    """As the gallery starts with: the first layout of the file (blur in a default build)."""
    made = make_images(n=2)
    images = [{"id": f"{i:016x}", "path": p.name, "width": 48, "height": 32, "atlas_sheet": 0, "atlas_cell": i}
              for i, (p, _) in enumerate(made)]
    grids = {"blur": [[0, 0], [1, 0]], "combined": [[1, 0], [0, 0]]}   # the other way round
    doc = build_layout(generator_version=__version__, params={"source": str(made[0][0].parent)},
                       atlas_levels=[{"cell_px": 32, "sheet_px": 2048, "files": ["dummy.jpg"]}], images=images,
                       cols=2, rows=1, skipped=[],
                       layouts={name: {"label": name, "tsne": [[0, 0], [1, 1]], "grid": grid} for name, grid in grids.items()})
    path = tmp_path / "out" / "layout.json"
    write_layout(path, doc)
    source = made[0][0].parent
    posters = {name: np.asarray(Image.open(make_poster(path, tmp_path / f"{name}.png", layout=name, cell_px=CELL,
                                                       source=source, progress=False)))
               for name in (None, "blur", "combined")}
    assert np.array_equal(posters[None], posters["blur"]) and not np.array_equal(posters[None], posters["combined"])
    with pytest.raises(UserError, match=r"no layout 'nope'; it holds blur, combined"):
        make_poster(path, tmp_path / "p.png", layout="nope", source=source, progress=False)
