"""Incremental runs: new points placed into a fixed map, the grid repaired locally (one image per cell, old
images staying put), atlas sheets continued, and the whole build adding images to a kept layout."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from embed.build.atlas_reuse import continued_slots
from embed.cli import main
from embed.core.grid import assign_grid, fit_to_grid, grid_shape
from embed.core.holes import interior_holes
from embed.core.place import place_new_points
from embed.core.reduce import Projection, tsne_2d
from embed.core.repair import keeps_grid, repair_grid
from embed.build.thumbs import write_atlases
from layoutfile import layout_arrays, read_layout
from tests.embed.test_pipeline import BUILD_ARGS, no_interior_holes, write_family_images


def clustered(n: int, k: int = 6, dim: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (k, dim))
    label = rng.integers(0, k, n)
    return centres[label] + rng.normal(0, 1, (n, dim)), label


def one_image_per_cell(cells: np.ndarray, cols: int, rows: int) -> bool:
    inside = (cells >= 0).all() and (cells[:, 0] < cols).all() and (cells[:, 1] < rows).all()
    return bool(inside and len({tuple(c) for c in cells.tolist()}) == len(cells))


@pytest.mark.parametrize("gradient_points", [400, 11_000])   # Barnes-Hut and FFT maps
def test_new_points_land_in_their_own_cluster_and_the_map_stays_fixed(gradient_points):
    features, label = clustered(gradient_points + 40)
    old, new = slice(0, gradient_points), slice(gradient_points, None)
    projection = Projection.fit(features[old], pca_dims=20)
    x = projection.apply(features)
    rng = np.random.default_rng(1)   # a stand-in map: each cluster a blob of its own (t-SNE itself is slow at 11k)
    spots = rng.uniform(-40, 40, (6, 2))
    map_xy = spots[label[old]] + rng.normal(0, 2, (gradient_points, 2))
    kept = map_xy.copy()
    placed = place_new_points(x[old], map_xy, x[new], n_jobs=1)
    assert np.array_equal(map_xy, kept)
    assert np.array_equal(placed, place_new_points(x[old], map_xy, x[new], n_jobs=1))
    nearest = np.linalg.norm(placed[:, None] - map_xy[None], axis=-1).argmin(axis=1)
    assert (label[old][nearest] == label[new]).mean() >= 0.95


def test_new_points_in_a_real_tsne_map_sit_among_their_nearest_old_rows():
    features, label = clustered(330, seed=3)
    projection = Projection.fit(features[:300], pca_dims=20)
    x = projection.apply(features)
    map_xy = tsne_2d(x[:300], n_jobs=1, progress=False)
    placed = place_new_points(x[:300], map_xy, x[300:], n_jobs=1)
    near = np.linalg.norm(placed[:, None] - map_xy[None], axis=-1).argsort(axis=1)[:, :5]
    assert (label[:300][near] == label[300:, None]).mean() >= 0.95


def grid_of_map(n: int, spare: float = 0.01) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A cold grid of a blobby 2-D map (every cell taken when spare=0): (points, old cells, cols, rows);
    points has 1 % more rows than cells, the images to add."""
    cols, rows = grid_shape(n, spare=spare)
    n = n if spare else cols * rows
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 1, (8, 2))
    points = centres[rng.integers(0, 8, n + n // 100)] + rng.normal(0, 0.06, (n + n // 100, 2))
    cells = assign_grid(points[:n], cols, rows, "fast")
    return points, cells, cols, rows


def test_repair_with_room_keeps_old_cells_and_puts_new_images_near_their_spot():
    points, cells, cols, rows = grid_of_map(3000)
    targets = fit_to_grid(points, cols, rows)[3000:]
    repair = repair_grid(cells, targets, cols, rows, 16 / 9)
    assert (repair.cols, repair.rows) == (cols, rows)
    assert one_image_per_cell(repair.cells, cols, rows) and interior_holes(repair.cells, cols, rows) == 0
    moved = np.abs(repair.cells[:3000] - cells).max(axis=1)   # paths meet near the end of the last row:
    assert (moved == 0).mean() >= 0.75 and (moved <= 1).mean() >= 0.97 and moved.max() <= 6   # a few move twice
    assert np.abs(repair.cells[3000:] + 0.5 - targets).max(axis=1).mean() < 3


def test_repair_without_room_grows_the_grid_by_whole_lines_keeping_the_old_order():
    points, full, cols, rows = grid_of_map(3000, spare=0)
    targets = fit_to_grid(points, cols, rows)[len(full):]
    repair = repair_grid(full, targets, cols, rows, 16 / 9)
    n = len(full) + len(targets)
    assert repair.cols >= cols and repair.rows >= rows
    assert repair.cols * repair.rows >= n and (repair.cols, repair.rows) != (cols, rows)
    assert one_image_per_cell(repair.cells, repair.cols, repair.rows)
    assert interior_holes(repair.cells, repair.cols, repair.rows) == 0
    after = repair.cells[:len(full)]
    for axis in (0, 1):   # inserted lines shift old images, keeping their order but where the empty cells left
        order = np.argsort(full[:, axis], kind="stable")   # in them slid to the tail (a few by up to 5 cells)
        step = np.diff(after[order, axis])
        assert (step >= -1).mean() >= 0.98 and step.min() >= -6


def test_a_kept_grid_is_given_up_when_most_of_it_would_stay_empty():
    cols, rows = grid_shape(1000, spare=0.02)
    assert keeps_grid(cols, rows, 1000, 16 / 9) and keeps_grid(cols, rows, 1015, 16 / 9)
    assert not keeps_grid(cols, rows, 600, 16 / 9)


def test_continued_atlas_keeps_old_slots_and_redraws_only_the_changed_sheets(tmp_path):
    rng = np.random.default_rng(4)
    thumbs = rng.integers(0, 256, (14, 8, 8, 3), dtype=np.uint8)
    ids = [f"id{i}" for i in range(12)]
    levels, sheets, cells = write_atlases(thumbs[:12], tmp_path, "a", (4, 8), cells_per_side=2, progress=False)
    previous = {"atlas": {"levels": levels},
                "images": [{"id": i, "atlas_sheet": int(s), "atlas_cell": int(c)} for i, s, c in zip(ids, sheets, cells)]}
    untouched = {f: (tmp_path / f).stat().st_mtime_ns for f in levels[1]["files"]}
    (tmp_path / levels[0]["files"][2]).write_bytes(b"changed on disk")   # sheet 2 no longer matches its digest

    now = ids[:5] + ids[6:] + ["new0", "new1"]   # id5 (sheet 1) removed, two added
    rows = np.r_[0:5, 6:12, 12:14]
    slots, reuse = continued_slots(previous, now, np.arange(13)[::-1], tmp_path, "a", (4, 8), 2)
    old_slots = sheets * 4 + cells
    assert np.array_equal(slots[:11], old_slots[np.r_[0:5, 6:12]])
    assert slots[12] == old_slots[5] and slots[11] == 12   # in `order`: the freed slot first, then a new sheet
    assert sorted(reuse) == [0]   # sheet 1 changed, sheet 2's file was tampered with
    new_levels, new_sheets, new_cells = write_atlases(thumbs[rows], tmp_path, "a", (4, 8), cells_per_side=2,
                                                      progress=False, slots=slots, reuse=reuse)
    assert new_levels[1]["files"][0] == levels[1]["files"][0]
    assert (tmp_path / levels[1]["files"][0]).stat().st_mtime_ns == untouched[levels[1]["files"][0]]
    assert len(new_levels[1]["files"]) == 4
    for i, (s, c) in enumerate(zip(new_sheets, new_cells)):
        sheet = np.asarray(Image.open(tmp_path / new_levels[1]["files"][s]), dtype=float)
        y, x = (c // 2) * 8, (c % 2) * 8
        assert np.abs(sheet[y:y + 8, x:x + 8] - thumbs[rows[i]]).mean() < 12, f"image {i} in sheet {s} cell {c}"


def test_adding_images_keeps_the_layout_one_to_one_and_old_images_on_their_cells(tmp_path, capsys):
    images, out = tmp_path / "images", tmp_path / "out" / "layout.json"
    write_family_images(images)
    args = [a if a != "lap" else "fast" for a in BUILD_ARGS]
    assert main([str(images), "-o", str(out), *args]) == 0
    before = read_layout(out)
    for i, colour in enumerate([(220, 40, 40), (40, 70, 200), (40, 170, 60)]):
        img = Image.new("RGB", (72, 56), tuple(int(v * 0.7 + 40) for v in colour))
        ImageDraw.Draw(img).rectangle([10, 8, 60, 50], fill=colour)
        img.save(images / f"new_{i}.png")
    capsys.readouterr()
    assert main([str(images), "-o", str(out), *args]) == 0
    assert "t-SNE: incremental, 3 new of 43" in capsys.readouterr().out
    after = read_layout(out)
    cols, rows = after["grid"]["cols"], after["grid"]["rows"]   # 40 images filled 8 × 5: the grid grew a column
    assert (cols, rows) == (before["grid"]["cols"] + 1, before["grid"]["rows"])
    old_index = {image["path"]: i for i, image in enumerate(after["images"])}
    old = [old_index[image["path"]] for image in before["images"]]
    for name in ("blur", "combined"):
        _, grid_before = layout_arrays(before, name)
        _, grid_after = layout_arrays(after, name)
        assert one_image_per_cell(grid_after, cols, rows) and interior_holes(grid_after, cols, rows) == 0
        moved = np.abs(grid_after[old] - grid_before).max(axis=1)   # by the inserted column, or a slid hole
        assert moved.max() <= 1, name
    slot = {im["path"]: (im["atlas_sheet"], im["atlas_cell"]) for im in after["images"]}
    assert all(slot[im["path"]] == (im["atlas_sheet"], im["atlas_cell"]) for im in before["images"])
    assert len(set(slot.values())) == len(slot)
    for image in before["images"][10:13]:   # removed images leave holes on the kept grid: they slide to the end
        (images / image["path"]).unlink()
    assert main([str(images), "-o", str(out), *args]) == 0
    assert "t-SNE: incremental, 0 new of 40" in capsys.readouterr().out
    removed = read_layout(out)
    assert (removed["grid"]["cols"], removed["grid"]["rows"]) == (cols, rows)
    assert no_interior_holes(removed)
