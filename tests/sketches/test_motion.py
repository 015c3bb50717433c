"""Motion and the sketch library's pure parts: easing, stagger, flights, view, world positions, atlas checks;
and the shader against its numpy twin: frames rendered mid-flight with every easing, pixels read back."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from tests.sketches.conftest import COLOURS, TSNE, grid_world, make_layout, tsne_world
from tests.sketches.own_process import in_own_process

from layoutfile import UserError, read_layout
from sketches.gallery import parse_args
from sketches.lib.layout import GRID_IMAGE_SIZE, load_layout, world_positions
from sketches.lib.motion import EASINGS, SHADER, Animator, ease, path, stagger_delays
from sketches.lib.scene import OUTLINE_PX
from sketches.lib.view import View


@pytest.mark.parametrize("easing", EASINGS)
def test_easings_start_at_0_end_at_1_and_clamp(easing):
    t = np.linspace(-0.5, 1.5, 201)
    e = ease(t, easing)
    assert e[t <= 0] == pytest.approx(0, abs=1e-9) and e[t >= 1] == pytest.approx(1, abs=1e-9)
    if easing != "back-out":   # back-out overshoots on purpose
        assert np.all(np.diff(e) >= -1e-12) and e.max() <= 1 + 1e-12


def test_shader_knows_every_easing_in_the_same_order():
    comments = re.findall(r"// ([a-z-]+)\s*$", SHADER.read_text(), re.MULTILINE)
    assert tuple(c for c in comments if c in EASINGS) == EASINGS


def test_in_out_easings_are_symmetric_and_distinct():
    t = np.linspace(0, 1, 11)
    curves = {name: ease(t, name) for name in EASINGS}
    for name in ("sine-in-out", "quad-in-out", "cubic-in-out", "quint-in-out", "expo-in-out"):
        assert curves[name] + curves[name][::-1] == pytest.approx(np.ones_like(t))
    assert len({tuple(np.round(c, 6)) for c in curves.values()}) == len(EASINGS)
    with pytest.raises(ValueError, match="unknown easing"):
        ease(t, "bounce")


def test_stagger_sends_long_flights_first_and_stays_in_range():
    start = np.array([[0, 0], [0, 0], [5, 5]], np.float32)
    end = np.array([[10, 0], [1, 0], [5, 5]], np.float32)
    delay = stagger_delays(start, end, 2.0)
    assert delay.min() == 0 and delay.max() == pytest.approx(2.0)   # the first leaves at once, the last at 2 s
    assert delay[0] < delay[1]          # same start, longer flight → leaves earlier
    assert stagger_delays(start, start, 0.0).tolist() == [0, 0, 0]


def test_flight_reaches_target_and_an_interruption_starts_where_images_are():
    rng = np.random.default_rng(0)
    a, b, c = (rng.uniform(0, 50, (1000, 2)).astype(np.float32) for _ in range(3))
    flight = Animator(a)
    assert np.array_equal(flight.positions(0.0), a) and not flight.is_animating(0.0)
    flight.retarget(b, now=10.0, duration=2.0)
    assert flight.is_animating(11.0) and not flight.is_animating(12.0)
    assert np.allclose(flight.positions(10.0), a) and np.allclose(flight.positions(12.0), b)
    mid = flight.positions(11.0)
    assert not np.allclose(mid, a) and not np.allclose(mid, b)
    flight.retarget(c, now=11.0, duration=2.0)           # interrupt midway
    assert np.allclose(flight.positions(11.0), mid, atol=1e-5)   # nothing jumps
    step = np.abs(flight.positions(11.02) - mid).max()
    assert step < 0.5                                    # 20 ms later, still close
    assert np.allclose(flight.positions(13.0), c)
    flight.jump(a)
    assert np.array_equal(flight.positions(13.5), a)


def test_path_is_the_flight_the_animator_reports():
    rng = np.random.default_rng(1)
    a, b = (rng.uniform(0, 9, (50, 3)).astype(np.float32) for _ in range(2))
    flight = Animator(a)
    flight.retarget(b, now=3.0, duration=2.0, easing="quint-in-out")
    expected = path(flight.start, flight.end, flight.delay, 1.1, flight.move_time, "quint-in-out")
    assert np.array_equal(flight.positions(4.1), expected)
    assert np.array_equal(path(a, b, np.zeros(50), 0.0, 1.0), a) and np.allclose(path(a, b, np.zeros(50), 1.0, 1.0), b)


@in_own_process
def test_the_shader_flies_images_where_motion_py_says_with_every_easing(tmp_path):
    """Layout 1's grid → layout 3's t-SNE (not neighbours in the file), once per easing: at two moments of each
    flight every image not hidden by another is drawn centred at motion.py's position (to 1.5 px, across and
    down) and as wide as its side there."""
    from tests.sketches.test_gallery import TOLERANCE, frame, run

    layout_path = make_layout(tmp_path / "three", third=True)
    args = parse_args([str(layout_path), "--layout", "blur", "--state", "grid", "--size", "960x540"])
    args.doc = read_layout(layout_path)
    duration = 2.0
    checked = {}

    def script(s):
        view = s.scene.view
        deadline = time.monotonic() + 120                             # every atlas sheet uploaded: on a busy
        while not s.scene.is_sharp() and time.monotonic() < deadline:  # machine the first frames draw no images
            yield
        assert s.scene.is_sharp(), "the atlas did not load within 120 s"
        for k, easing in enumerate(EASINGS):
            t0 = 100.0 * (k + 1)
            s.clock = t0
            s.scene.jump_to("blur", "grid")
            s.scene.go_to("third", "tsne", t0, duration, easing)
            for share in (0.3, 0.6):
                s.clock = t0 + share * duration
                yield
                pixels = frame(s)
                placed = s.scene.animator.positions(s.clock)
                flight = s.scene.animator
                assert np.array_equal(placed, path(flight.start, flight.end, flight.delay, flight.elapsed(s.clock),
                                                   flight.move_time, easing))
                for i, (x, y, side) in enumerate(placed):
                    sx, sy = view.to_screen(x, y)
                    left, right = colour_run(pixels[int(sy)], int(sx), COLOURS[i], TOLERANCE)
                    top, bottom = colour_run(pixels[:, int(sx)], int(sy), COLOURS[i], TOLERANCE)
                    inner = side * view.scale - 2 * OUTLINE_PX                # the outline is drawn inside the edge
                    if min(right - left, bottom - top) < inner - 2:
                        continue                                      # partly under another image
                    assert max(right - left, bottom - top) <= inner + 2, (easing, share, i, right - left, inner)
                    assert abs((left + right) / 2 - sx) <= 1.5 and abs((top + bottom) / 2 - sy) <= 1.5, \
                        (easing, share, i, (left, right, top, bottom), (sx, sy))
                    checked[easing, share] = checked.get((easing, share), 0) + 1
            s.clock = t0 + duration
            yield
            assert not s.scene.is_animating(s.clock)
            pixels = frame(s)
            for i, world in enumerate(tsne_world("third")):
                sx, sy = view.to_screen(*world)
                assert np.abs(pixels[int(sy), int(sx)] - COLOURS[i]).max() <= TOLERANCE, (easing, "landed", i)

    run(args, script)
    assert all(checked.get((easing, share), 0) >= 4 for easing in EASINGS for share in (0.3, 0.6)), checked


def colour_run(row: np.ndarray, x: int, colour, tolerance: int) -> tuple[int, int]:
    """[left, right) of the run of pixels of `colour` through row[x] (empty if row[x] is another colour)."""
    same = np.abs(row - colour).max(axis=1) <= tolerance
    if not same[x]:
        return x, x
    left, right = x, x + 1
    while left > 0 and same[left - 1]:
        left -= 1
    while right < len(row) and same[right]:
        right += 1
    return left, right


def test_view_fits_world_centred_and_zooms_about_the_cursor():
    view = View(960, 540, 4, 3)
    x0, y0 = view.to_screen(0, 0)
    x1, y1 = view.to_screen(4, 3)
    assert (x0 + x1) / 2 == pytest.approx(480) and (y0 + y1) / 2 == pytest.approx(270)
    assert y1 - y0 == pytest.approx(540 * 0.94) and x1 - x0 == pytest.approx(540 * 0.94 * 4 / 3)
    world = view.to_world(700, 100)
    view.zoom_at(700, 100, 3.0)
    assert view.to_world(700, 100) == pytest.approx(world)
    assert view.scale == pytest.approx(3 * 540 * 0.94 / 3)
    view.pan(25, -10)
    assert view.to_screen(*world) == pytest.approx((725, 90))
    view.zoom_at(0, 0, 1e-6)                             # clamped, not collapsed
    assert view.scale > 0.2 * view.fit_scale()
    view.fit()
    assert view.to_screen(0, 0) == pytest.approx((x0, y0))
    sx, sy, ox, oy = view.clip_transform()               # world → clip agrees with world → screen
    px, py = view.to_screen(2.5, 1.5)
    assert (2.5 * sx + ox + 1) / 2 * 960 == pytest.approx(px) and (1 - (1.5 * sy + oy)) / 2 * 540 == pytest.approx(py)


def test_world_positions_put_grid_cells_and_tsne_clouds_in_one_box(tmp_path):
    doc = load_layout(make_layout(tmp_path))
    positions = world_positions(doc)
    for name in ("blur", "combined"):
        assert positions[name, "grid"][:, :2] == pytest.approx(grid_world(name))
        assert positions[name, "tsne"][:, :2] == pytest.approx(tsne_world(name), abs=1e-5)
        assert (positions[name, "grid"][:, 2] == GRID_IMAGE_SIZE).all()     # no tsne_image_size: the grid's size
        assert (positions[name, "tsne"][:, 2] == GRID_IMAGE_SIZE).all()


def test_the_tsne_state_uses_the_display_positions_and_image_size(tmp_path):
    path = make_layout(tmp_path)
    doc = json.loads(path.read_text())
    display = (np.array(TSNE["blur"])[:, ::-1] * 0.6).tolist()          # another cloud, 0.6 x 1 after transposing
    doc["layouts"]["blur"].update(tsne_display=display, tsne_image_size=0.5)
    path.write_text(json.dumps(doc))
    positions = world_positions(load_layout(path))
    assert positions["blur", "tsne"][:, :2] == pytest.approx(tsne_world_of(display), abs=1e-5)
    assert (positions["blur", "tsne"][:, 2] == 0.5).all() and (positions["blur", "grid"][:, 2] == GRID_IMAGE_SIZE).all()
    assert positions["combined", "tsne"][:, :2] == pytest.approx(tsne_world("combined"), abs=1e-5)   # raw map
    flight = Animator(positions["blur", "tsne"])
    flight.retarget(positions["blur", "grid"], now=0.0, duration=1.0, easing="linear")
    sides = flight.positions(0.5)[:, 2]                                # images grow on their way to the grid
    assert ((sides > 0.5) & (sides < GRID_IMAGE_SIZE)).any() and (flight.positions(1.0)[:, 2] == GRID_IMAGE_SIZE).all()


def tsne_world_of(points) -> np.ndarray:
    """World centres of a [0, 1]² cloud on the test grid (COLS x ROWS), worked out by hand: the cloud is 0.6 wide
    and 1 high, so its height fills rows - 1 = 2 cells and it is centred horizontally."""
    points = np.asarray(points, dtype=float)
    lo, hi = points.min(axis=0), points.max(axis=0)
    scale = 2 / (hi[1] - lo[1])
    return (points - (lo + hi) / 2) * scale + [2.0, 1.5]


def test_atlas_problems_are_one_line_user_errors(tmp_path):
    path = make_layout(tmp_path)
    assert len(load_layout(path)["images"]) == len(COLOURS)
    (tmp_path / "atlas/32/001.png").unlink()
    with pytest.raises(UserError, match=r"001\.png: atlas sheet missing"):
        load_layout(path)
    make_layout(tmp_path)
    (tmp_path / "atlas/8/000.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match=r"000\.png: atlas sheet unreadable"):
        load_layout(path)
    make_layout(tmp_path)
    doc = json.loads(path.read_text())
    doc["atlas"]["levels"][0]["sheet_px"] = 32
    path.write_text(json.dumps(doc))
    with pytest.raises(UserError, match=r"atlas sheet is 16x16 px, the layout says 32x32"):
        load_layout(path)
