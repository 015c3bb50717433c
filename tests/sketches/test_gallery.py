"""The gallery sketch rendering real frames under Xvfb + Mesa: pixels read back and checked.

One scripted run covers grid/t-SNE placement, both toggles, mid-flight frames, an interruption, the
sharp atlas level, hover, zoom, pan, help, screenshot and hot reload; damaged atlas sheets fall back; a CLI
run checks --snapshot; the error cases stop before Java starts. Sketches run in-process only in a test's
own child process (tests/sketches/own_process.py): pytest itself never starts Java.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path

import jpype
import numpy as np
import pytest
from PIL import Image
from tests.embed.test_pipeline import BUILD_ARGS, write_family_images
from tests.sketches.conftest import COLOURS, MARK, ROOT, grid_world, make_layout, tsne_world
from tests.sketches.own_process import in_own_process

from layoutfile import UserError, read_layout
from sketches.gallery import parse_args
from sketches.lib.layout import load_layout
from sketches.lib.motion import DEFAULT_DURATION

GALLERY = ROOT / "sketches" / "gallery.py"
SIZE = (960, 540)
TOLERANCE = 14    # per channel, for colours read back from the frame
D = DEFAULT_DURATION


def run(args, script):
    """Run the gallery on a test clock, advancing the generator `script(sketch)` by one step per frame
    (in the test's own process: this imports py5, which starts Java)."""
    from sketches.gallery_sketch import Gallery

    class ScriptedGallery(Gallery):
        def __init__(self):
            super().__init__(args)
            self.clock = 0.0
            self.script = script(self)
            self.failure: str | None = None

        def now(self) -> float:
            return self.clock

        def draw(self):
            super().draw()
            try:
                next(self.script)
            except StopIteration:
                self.exit_sketch()
            except BaseException:
                self.failure = traceback.format_exc()
                self.exit_sketch()

    sketch = ScriptedGallery()
    sketch.run_sketch(block=True)
    if sketch.is_dead_from_error:
        sketch.exit_sketch()
        pytest.fail("the sketch died with an error (traceback above)")
    assert sketch.failure is None, sketch.failure
    return sketch


def press(sketch, key: str, code: int | None = None, shift: bool = False) -> None:
    """Post a key press, handled right after the current frame's draw()."""
    event = jpype.JClass("processing.event.KeyEvent")
    char = "\uffff" if code is not None else key
    sketch._instance.postEvent(event(None, 0, event.PRESS, event.SHIFT if shift else 0, jpype.JChar(char),
                                     code if code is not None else ord(key.upper()), False))


def mouse(sketch, action: str, x: float, y: float, count: int = 0) -> None:
    event = jpype.JClass("processing.event.MouseEvent")
    sketch._instance.postEvent(event(None, 0, getattr(event, action), 0, int(x), int(y), 37, count))


def frame(sketch) -> np.ndarray:
    sketch.load_np_pixels()
    return sketch.np_pixels[:, :, 1:].astype(int).copy()   # ARGB → RGB


def colour_at(pixels: np.ndarray, sketch, world) -> np.ndarray:
    x, y = sketch.scene.view.to_screen(*world)
    return pixels[int(round(y)), int(round(x))]


def assert_images_at(sketch, pixels, world_positions, colours=COLOURS) -> None:
    for i, (world, colour) in enumerate(zip(world_positions, colours)):
        got = colour_at(pixels, sketch, world)
        assert np.abs(got - colour).max() <= TOLERANCE, f"image {i} at {world}: {got}, expected {colour}"


def wait_until_sharp(sketch, frames: int = 300):
    for _ in range(frames):
        if sketch.scene.is_sharp():
            return
        yield


@in_own_process
def test_gallery_animates_toggles_hovers_zooms(layout_path, tmp_path, monkeypatch):
    from sketches.gallery_sketch import PAN_STEP

    monkeypatch.chdir(tmp_path)   # screenshots land here
    args = parse_args([str(layout_path), "--layout", "blur", "--state", "grid", "--size", "960x540"])
    args.doc = read_layout(layout_path)
    seen = {}

    def script(s):
        # 1. Grid, blur: each cell shows its image; the sharp level draws image 0's white corner.
        yield from wait_until_sharp(s)
        assert s.scene.is_sharp()
        pixels = frame(s)
        x0, y0 = grid_world("blur")[0]
        assert np.abs(colour_at(pixels, s, (x0 - 0.35, y0 - 0.35)) - MARK).max() <= TOLERANCE
        assert np.abs(colour_at(pixels, s, (x0 + 0.25, y0 + 0.25)) - COLOURS[0]).max() <= TOLERANCE
        grid_frame = pixels

        # 2. t: grid → t-SNE. The flight starts where the images are, drawn from the small level only (the
        # sharp corner mark is gone); mid-flight differs from both ends and matches the CPU's positions.
        s.clock = 100.0
        press(s, "t")
        yield
        start = frame(s)
        assert_images_at(s, start, grid_world("blur"))
        assert np.abs(colour_at(start, s, (x0 - 0.35, y0 - 0.35)) - COLOURS[0]).max() <= TOLERANCE
        assert np.abs(start - grid_frame).max(axis=2).mean() < 1
        s.clock = 100.0 + 0.5 * D
        yield
        mid = frame(s)
        assert s.scene.is_animating(s.clock)
        hits = 0
        for i, world in enumerate(s.scene.animator.positions(s.clock)[:, :2]):
            x, y = s.scene.view.to_screen(*world)
            if s.scene.image_at(x, y, s.clock) == i:
                hits += 1
                assert np.abs(mid[int(y), int(x)] - COLOURS[i]).max() <= TOLERANCE
        assert hits >= 4
        s.clock = 100.0 + D
        yield
        tsne_frame = frame(s)
        assert not s.scene.is_animating(s.clock)
        assert_images_at(s, tsne_frame, tsne_world("blur"))
        assert np.abs(mid - grid_frame).max(axis=2).mean() > 5 and np.abs(mid - tsne_frame).max(axis=2).mean() > 5

        # 3. b in t-SNE: blur → combined t-SNE; t: → combined grid.
        s.clock = 200.0
        press(s, "b")
        yield
        s.clock = 200.0 + D
        yield
        assert (s.scene.layout, s.scene.state) == ("combined", "tsne")
        assert_images_at(s, frame(s), tsne_world("combined"))
        s.clock = 300.0
        press(s, "t")
        yield
        s.clock = 300.0 + D
        yield
        assert_images_at(s, frame(s), grid_world("combined"))

        # 4. Interrupt: b, then b again at 40 %: the frame after the second toggle equals the one before.
        s.clock = 400.0
        press(s, "b")
        yield
        s.clock = 400.0 + 0.4 * D
        yield
        before = frame(s)
        press(s, "b")
        yield
        assert np.abs(frame(s) - before).max() <= 1          # nothing jumps
        assert not np.array_equal(before, grid_frame)          # it was really mid-way
        s.clock = 400.0 + 1.4 * D
        yield
        assert (s.scene.layout, s.scene.state) == ("combined", "grid")
        assert_images_at(s, frame(s), grid_world("combined"))

        # 5. Hover over image 3's cell, at the window's right edge: its file, and its enlarged thumbnail in a
        # panel beside it (to its left: there is no room on the right), never over it.
        x, y = s.scene.view.to_screen(*grid_world("combined")[3])
        mouse(s, "MOVE", x + 40, y + 40)
        for _ in range(300):
            yield
            if s.hover_image is not None:
                break
        yield
        assert s.hover == 3 and s.hover_file == Path(args.doc["params"]["source"]) / "colours/3.png"
        pixels = frame(s)
        half = 0.47 * s.scene.view.scale
        assert np.abs(pixels[int(y), int(x)] - COLOURS[3]).max() <= TOLERANCE            # the image still shows
        yellow = (np.abs(pixels - COLOURS[3]).max(axis=2) <= TOLERANCE)
        yellow[int(y - half):int(y + half), int(x - half):int(x + half)] = False
        ys, xs = np.nonzero(yellow)                                                        # the enlarged copy
        assert len(xs) >= 180 * 180 and xs.max() < x - half and ys.min() >= 0

        # 6. Wheel zoom keeps the point under the cursor; r resets; arrows and drag pan.
        fit_scale = s.scene.view.scale
        px, py = s.scene.view.to_screen(*grid_world("combined")[1] + [0.2, -0.1])
        mouse(s, "MOVE", px, py)
        yield
        before = frame(s)[int(py), int(px)]
        mouse(s, "WHEEL", px, py, count=-3)
        yield
        yield
        assert s.scene.view.scale == pytest.approx(fit_scale * 1.25 ** 3)
        assert np.abs(frame(s)[int(py), int(px)] - before).max() <= TOLERANCE
        assert s.scene.image_at(px, py, s.clock) == 1
        press(s, "r")
        yield
        assert s.scene.view.scale == pytest.approx(fit_scale)
        offset = s.scene.view.offset_x
        press(s, "", code=39, shift=True)   # Shift + RIGHT arrow: the picture moves left
        mouse(s, "PRESS", 100, 100)
        mouse(s, "DRAG", 130, 90)
        yield
        assert s.scene.view.offset_x == pytest.approx(offset - PAN_STEP + 30)
        press(s, "r")
        yield

        # 7. h shows the help panel over the images; s saves a full-size PNG of the frame.
        without_help = frame(s)
        press(s, "h")
        yield
        with_help = frame(s)
        assert with_help[60, 60].sum() < 0.5 * without_help[60, 60].sum()   # image 1 under the panel, darkened
        press(s, "h")
        press(s, "s")
        mouse(s, "MOVE", 2, 2)     # no hover panel either
        yield
        assert s.hover is None
        seen["screenshot"] = frame(s)

        # 8. Hot reload: a document without image 2 and in another atlas order; images fly to the new cells.
        order = [5, 4, 3, 1, 0]
        new_path = make_layout(tmp_path / "reloaded", order=order)
        s.clock = 500.0
        s.scene.replace_layout(read_layout(new_path), new_path)
        while s.scene.reloading:                               # the old picture stays until the new atlas is in
            assert_images_at(s, frame(s), grid_world("combined"))
            yield
        s.clock = 500.0 + D
        yield
        assert_images_at(s, frame(s), grid_world("combined")[order], COLOURS[order])
        x, y = s.scene.view.to_screen(*grid_world("combined")[2])
        assert s.scene.image_at(x, y, s.clock) is None

    sketch = run(args, script)
    shots = list(tmp_path.glob("gallery-*.png"))
    assert len(shots) == 1
    saved = np.asarray(Image.open(shots[0]).convert("RGB")).astype(int)
    assert saved.shape == (SIZE[1], SIZE[0], 3)
    assert np.abs(saved - seen["screenshot"]).max() <= 2
    assert sketch.is_dead and not sketch.is_dead_from_error


def test_snapshot_command_writes_the_requested_frame(layout_path, tmp_path):
    out = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, str(GALLERY), str(layout_path), "--snapshot", str(out),
                             "--layout", "combined", "--state", "tsne", "--size", "480x270"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""                       # quiet: no JOGL X11Util lines on exit
    pixels = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert pixels.shape == (270, 480, 3)
    scale = 270 * 0.94 / 3          # default framing: the 4 x 3 world box fitted to the height, centred
    for world, colour in zip(tsne_world("combined"), COLOURS):
        x = 240 + (world[0] - 2) * scale
        y = 135 + (world[1] - 1.5) * scale
        assert np.abs(pixels[int(y), int(x)] - colour).max() <= TOLERANCE


@pytest.mark.parametrize("size", ["100000x100000", "20000x11250", "16385x64"])
def test_a_snapshot_no_graphics_card_draws_is_one_line_before_java(layout_path, tmp_path, size):
    """Issue 19: 100000x100000 printed a Java trace and exited 0 without a PNG; 20000x11250 was a py5 traceback."""
    out = tmp_path / "shot.png"
    assert gallery_error([str(layout_path), "--snapshot", str(out), "--size", size]) == (
        f"error: --size {size}: larger than 16384 px a side (the texture limit of common graphics cards); "
        "use a smaller size")
    assert not out.exists()


CARD_LIMIT = """
import sys
import sketches.gallery_sketch as gallery_sketch
real = gallery_sketch.max_texture_size
gallery_sketch.max_texture_size = lambda: min(real(), 128)   # a card whose textures stop at 128 px
from sketches.gallery import main
main(sys.argv[1:])
"""


def test_a_snapshot_above_the_running_cards_limit_is_one_line_and_no_file(layout_path, tmp_path):
    out = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-c", CARD_LIMIT, str(layout_path), "--snapshot", str(out),
                             "--size", "480x96"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --size 480x96: larger than 128 px a side (this graphics card's limit); use a smaller size")
    assert "Traceback" not in result.stderr


def test_a_frame_needing_more_memory_than_is_available_is_refused(monkeypatch):
    from sketches.lib import options

    class Memory:
        available = 2**30
    monkeypatch.setattr(options.psutil, "virtual_memory", lambda: Memory)
    options.check_frame_size(4096, 2048)                                # 0.2 GiB at 24 bytes a pixel
    with pytest.raises(UserError, match=r"^--size 8192x8192: drawing it needs about 1.5 GiB of memory, 1.0 GiB "):
        options.check_frame_size(8192, 8192)


def gallery_error(args: list[str], env: dict | None = None) -> str:
    result = subprocess.run([sys.executable, str(GALLERY), *args], capture_output=True, text=True, timeout=60,
                            env={**os.environ, **(env or {})})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr and "java" not in lines[0].split(":")[0]
    return lines[0]


def test_bad_input_or_environment_gives_one_line(layout_path, tmp_path):
    assert "no such layout file" in gallery_error([str(tmp_path / "nope.json")])
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "tsne-gallery/layout", "vers')
    assert "not valid JSON" in gallery_error([str(broken)])
    assert "no X display: run under `xvfb-run -a" in gallery_error([str(layout_path)], {"DISPLAY": ""})
    no_java = gallery_error([str(layout_path)], {"PATH": str(Path(sys.executable).parent), "JAVA_HOME": ""})
    assert no_java.startswith("error: no Java found")
    doc = json.loads(layout_path.read_text())
    doc["images"][4]["atlas_cell"] = 4                    # 2 x 2 cells a sheet: cells 0..3
    bad_cell = tmp_path / "bad_cell.json"
    bad_cell.write_text(json.dumps(doc))
    assert gallery_error([str(bad_cell)]) == f"error: {bad_cell}: 'images[4].atlas_cell' must be a whole number from 0 to 3"
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps(dict(doc, images=[], layouts={n: dict(l, tsne=[], grid=[]) for n, l in
                                                              doc["layouts"].items()})))
    assert "the layout holds no images, so there is nothing to show" in gallery_error([str(empty)])
    (layout_path.parent / "atlas/8/000.png").unlink()
    assert "atlas sheet missing" in gallery_error([str(layout_path)])


def truncate(sheet: Path) -> None:
    """Cut an atlas sheet's pixels off after its header, zeros in their place (the file keeps its size, as an
    interrupted copy leaves it): the pre-Java checks pass, decoding fails."""
    data = sheet.read_bytes()
    sheet.write_bytes(data[:60] + bytes(len(data) - 60))


@in_own_process
def test_a_truncated_small_sheet_is_rebuilt_from_the_sharp_level(layout_path, caplog):
    truncate(layout_path.parent / "atlas/8/001.png")             # images 4 and 5
    args = parse_args([str(layout_path), "--layout", "blur", "--state", "grid", "--size", "960x540"])
    args.doc = read_layout(layout_path)

    def script(s):
        for _ in range(300):
            if s.scene.atlas.loaded:
                break
            yield
        s.clock = 100.0
        press(s, "t")                                             # in flight: the small level only
        yield
        assert s.scene.is_animating(s.clock) and len(s.scene.detail.shown) == 0
        assert_images_at(s, frame(s), grid_world("blur"))         # every image, in its colour: none black

    with caplog.at_level(logging.WARNING):
        run(args, script)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "atlas/8/001.png cannot be decoded" in warnings[0]
    assert "its images are drawn from the 32 px level" in warnings[0]


@pytest.mark.parametrize("damaged, shown_sharp, left_out", [
    (["atlas/32/000.png"], [4, 5], []),                           # sharp sheet 0: images 0-3 stay small
    (["atlas/32/001.png", "atlas/8/001.png"], [0, 1, 2, 3], [4, 5]),   # both levels of sheet 1: 4, 5 left out
])
def test_a_truncated_sheet_falls_back_and_never_draws_black_squares(layout_path, tmp_path, damaged, shown_sharp,
                                                                    left_out):
    for name in damaged:
        truncate(layout_path.parent / name)
    out = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, str(GALLERY), str(layout_path), "--snapshot", str(out), "--state", "grid",
                             "--size", "480x270"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "cannot be decoded" in line]
    assert len(warnings) == len(damaged) and "Traceback" not in result.stderr
    pixels = np.asarray(Image.open(out).convert("RGB")).astype(int)
    scale = 270 * 0.94 / 3                                        # default framing of the 4 x 3 world box
    for i, ((x, y), colour) in enumerate(zip(grid_world("blur"), COLOURS)):
        at = lambda dx, dy: pixels[int(135 + (y + dy - 1.5) * scale), int(240 + (x + dx - 2) * scale)]
        expected = np.full(3, 24) if i in left_out else colour    # left out: the background, not a black square
        assert np.abs(at(0.1, 0.1) - expected).max() <= TOLERANCE, (i, at(0.1, 0.1))
        if i == 0:                                                # the mark only the sharp level has
            mark = MARK if 0 in shown_sharp else COLOURS[0]
            assert np.abs(at(-0.35, -0.35) - mark).max() <= TOLERANCE


def run_width(pixels: np.ndarray, x: float, y: float, colour) -> int:
    """Width in pixels of the run of `colour` through (x, y) along the row."""
    row = np.abs(pixels[int(round(y))] - colour).max(axis=1) <= TOLERANCE
    x = int(round(x))
    left, right = x, x
    while left > 0 and row[left - 1]:
        left -= 1
    while right < len(row) - 1 and row[right + 1]:
        right += 1
    return right - left + 1 if row[x] else 0


@in_own_process
def test_images_grow_from_the_tsne_size_to_the_grid_size_in_flight(layout_path):
    doc = json.loads(layout_path.read_text())
    doc["layouts"]["blur"].update(tsne_display=doc["layouts"]["blur"]["tsne"], tsne_image_size=0.5)
    layout_path.write_text(json.dumps(doc))
    args = parse_args([str(layout_path), "--layout", "blur", "--state", "tsne", "--size", "960x540"])
    args.doc = read_layout(layout_path)

    def widths(s) -> list[int]:
        pixels = frame(s)
        placed = s.scene.animator.positions(s.clock)
        return [run_width(pixels, *s.scene.view.to_screen(x, y), colour) for (x, y, _), colour in zip(placed, COLOURS)]

    def script(s):
        yield from wait_until_sharp(s)
        scale = s.scene.view.scale
        assert widths(s) == pytest.approx([0.5 * scale] * 6, abs=3)          # t-SNE state: half a cell wide
        s.clock = 100.0
        press(s, "t")
        yield
        s.clock = 100.0 + 0.5 * D
        yield
        sides = s.scene.animator.positions(s.clock)[:, 2]
        assert 0.5 < sides.min() and sides.max() < 0.94 and np.ptp(sides) > 0.01   # growing, staggered
        assert widths(s) == pytest.approx(sides * scale, abs=3)               # drawn as the CPU computes them
        s.clock = 100.0 + D
        yield
        assert widths(s) == pytest.approx([0.94 * scale] * 6, abs=3)         # grid: the grid's size

    run(args, script)


def three_stop_build(folder: Path) -> Path:
    """A real 3-stop dial (`python -m embed --stops 3`, version 3) of 40 generated images in 5 colour families."""
    write_family_images(folder / "images")
    out = folder / "out" / "dial.json"
    result = subprocess.run([sys.executable, "-m", "embed", str(folder / "images"), "-o", str(out), "--stops", "3",
                             *BUILD_ARGS], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out


@in_own_process
def test_the_gallery_steps_through_three_layouts_with_number_and_arrow_keys(tmp_path):
    path = three_stop_build(tmp_path / "three")
    args = parse_args([str(path), "--state", "grid", "--size", "640x360"])
    args.doc = load_layout(path)
    first, second, third = names = list(args.doc["layouts"])
    assert len(names) == 3 and all("recipe" in args.doc["layouts"][name] for name in names)
    seen, order = {}, []

    def land(s, key, code=None):
        s.clock += 10.0
        press(s, key, code)
        yield
        s.clock += D
        yield
        yield from wait_until_sharp(s)
        order.append(s.scene.layout)
        seen.setdefault(s.scene.layout, []).append(frame(s))

    def script(s):
        assert s.scene.layout == first                  # no --layout: the file's first
        yield from wait_until_sharp(s)
        seen[first] = [frame(s)]
        yield from land(s, "2")                         # 2: the second layout
        yield from land(s, "", code=39)                 # right: the third
        yield from land(s, "", code=39)                 # right again: wraps round to the first
        yield from land(s, "", code=37)                 # left: back to the third
        yield from land(s, "b")                         # b: next, the first
        yield from land(s, "3")                         # 3 directly, from the first (not neighbours)
        yield from land(s, "9")                         # no ninth layout: nothing moves
        press(s, "h")
        yield
        seen["help"] = frame(s)

    run(args, script)
    assert order == [second, third, first, third, first, third, third]
    once = {name: seen[name][0] for name in names}
    for a, b in [(first, second), (first, third), (second, third)]:
        assert np.abs(once[a] - once[b]).max(axis=2).mean() > 20, (a, b)        # three different pictures
    for name in (first, third):
        for again in seen[name][1:]:
            assert np.abs(again - once[name]).max() <= 2, name                     # the same picture each visit
    assert np.abs(seen["help"] - once[third]).max(axis=2).mean() > 1                # the help panel is drawn


@in_own_process
def test_a_reload_without_the_current_layout_flies_to_the_new_files_first(tmp_path):
    path = make_layout(tmp_path / "three", third=True)
    args = parse_args([str(path), "--layout", "third", "--state", "grid", "--size", "960x540"])
    args.doc = read_layout(path)

    def script(s):
        yield from wait_until_sharp(s)
        assert_images_at(s, frame(s), grid_world("third"))
        two = make_layout(tmp_path / "two")                   # blur and combined only
        s.clock = 10.0
        s.scene.replace_layout(read_layout(two), two)
        while s.scene.reloading:
            yield
        assert (s.scene.layout, s.scene.state) == ("blur", "grid") and s.scene.layout_names == ["blur", "combined"]
        s.clock = 10.0 + D
        yield
        assert_images_at(s, frame(s), grid_world("blur"))
        press(s, "", code=37)                                 # left: the layouts are the new file's
        yield
        assert s.scene.layout == "combined"

    run(args, script)
