"""Grid assignment: one image per cell for every method, exact LAP optimality, the fast method's quality
against exact LAP and RasterFairy, empty cells only at the end of the last row, RasterFairy on numpy 2."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree
from scipy.stats import spearmanr

from embed.core import grid as grid_module
from embed.core.grid import METHODS, assign_grid, grid_shape
from embed.core.holes import interior_holes, tail_mask
from embed.core.metrics import dpq
from layoutfile import UserError


def clustered(n: int, seed: int = 0, k: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1, (k, 2))
    spread = rng.uniform(0.02, 0.1, k)
    label = rng.integers(0, k, n)
    return centres[label] + rng.normal(0, 1, (n, 2)) * spread[label][:, None]


def mean_squared_displacement(xy: np.ndarray, cells: np.ndarray, cols: int, rows: int) -> float:
    points = grid_module.fit_to_grid(xy, cols, rows)
    return float(((points - (cells + 0.5)) ** 2).sum(axis=1).mean())


@pytest.mark.parametrize(("n", "aspect", "expected"), [(350, 16 / 9, (25, 14)), (1, 16 / 9, (1, 1)),
                                                       (100, 1.0, (10, 10)), (12, 3.0, (6, 2))])
def test_grid_shape_known_cases(n, aspect, expected):
    assert grid_shape(n, aspect) == expected


@pytest.mark.parametrize("n", [2, 3, 7, 99, 350, 1000, 4321, 100_000])
def test_grid_shape_holds_n_near_the_aspect(n):
    cols, rows = grid_shape(n)
    assert cols * rows >= n
    assert cols * rows - n < max(cols, rows)
    if n >= 100:
        assert abs(cols / rows - 16 / 9) < 0.15


@pytest.mark.parametrize("bad", [(0, 1.0), (10, 0.0), (10, -2.0)])
def test_grid_shape_rejects_nonsense(bad):
    with pytest.raises(UserError):
        grid_shape(*bad)


def _cases():
    rng = np.random.default_rng(3)
    dup = np.repeat(rng.uniform(0, 1, (6, 2)), 30, axis=0)
    return {
        "random": (rng.uniform(0, 1, (300, 2)), 24, 14),
        "clustered": (clustered(600, seed=1), 33, 19),
        "duplicated": (dup, 15, 12),
        "single": (np.array([[0.3, 0.7]]), 1, 1),
        "single_in_big_grid": (np.array([[0.3, 0.7]]), 5, 4),
        "full": (clustered(20 * 15, seed=2), 20, 15),
        "fewer_than_cells": (clustered(250, seed=4), 20, 15),
        "line": (np.stack([np.linspace(0, 1, 40), np.zeros(40)], axis=1), 8, 5),
        "tall": (clustered(200, seed=5), 7, 30),
    }


CASES = _cases()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_method_puts_one_image_per_cell_inside_the_grid_leaving_only_the_tail_empty(method, case, monkeypatch):
    monkeypatch.setattr(grid_module, "TILES_CELLS", 64)  # make "tiles" actually split these small grids
    xy, cols, rows = CASES[case]
    cells = assign_grid(xy, cols, rows, method)
    assert cells.shape == (len(xy), 2) and np.issubdtype(cells.dtype, np.integer)
    assert (cells >= 0).all() and (cells[:, 0] < cols).all() and (cells[:, 1] < rows).all()
    assert len({tuple(c) for c in cells.tolist()}) == len(xy)
    assert not tail_mask(len(xy), cols, rows)[cells[:, 0], cells[:, 1]].any()   # the empty cells are the tail
    assert interior_holes(cells, cols, rows) == 0


def test_lap_is_optimal_like_scipy_on_the_cells_before_the_tail():
    xy = clustered(300, seed=7)
    cols, rows = 20, 17  # 340 cells for 300 points
    cells = assign_grid(xy, cols, rows, "lap")
    points = grid_module.fit_to_grid(xy, cols, rows)
    tail = tail_mask(len(xy), cols, rows)   # lap fills every cell but the end of the last row
    centres = np.array([(c + 0.5, r + 0.5) for c in range(cols) for r in range(rows) if not tail[c, r]])
    cost = ((points[:, None] - centres[None]) ** 2).sum(axis=2)
    best = cost[linear_sum_assignment(cost)].sum()
    ours = ((points - (cells + 0.5)) ** 2).sum()
    assert ours == pytest.approx(best, rel=1e-5)


def test_orientation_follows_the_points():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1, (200, 2)) * [3.0, 1.0]  # wide cloud
    for method in ("lap", "fast", "tiles", "rasterfairy"):
        cells = assign_grid(xy, 20, 10, method)
        assert spearmanr(xy[:, 0], cells[:, 0])[0] > 0.95, method
        assert spearmanr(xy[:, 1], cells[:, 1])[0] > 0.95, method


def density_blobs(n: int, seed: int = 0, k: int = 25) -> np.ndarray:
    """A t-SNE-like 2-D map: round blobs whose weights and widths differ by orders of magnitude, plus a
    sparse uniform background (3 %)."""
    rng = np.random.default_rng(seed)
    label = rng.choice(k, size=n, p=rng.dirichlet(np.full(k, 0.4)))
    width = np.exp(rng.uniform(np.log(0.003), np.log(0.12), k))[label]
    points = rng.uniform(0.1, 0.9, (k, 2))[label] + rng.normal(0, 1, (n, 2)) * width[:, None]
    background = rng.random(n) < 0.03
    points[background] = rng.uniform(0, 1, (background.sum(), 2))
    return points


@pytest.mark.parametrize("points", ["clustered", "density"])
def test_fast_keeps_neighbourhoods_as_well_as_exact_lap_and_better_than_rasterfairy(points):
    xy = clustered(2500, seed=11, k=10) if points == "clustered" else density_blobs(2500, seed=2)
    cols, rows = grid_shape(len(xy))
    quality = {method: dpq(xy, assign_grid(xy, cols, rows, method), 16) for method in ("lap", "fast", "rasterfairy")}
    assert quality["fast"] >= 0.98 * quality["lap"], quality
    assert quality["fast"] >= quality["rasterfairy"], quality


def test_tiles_stay_close_to_exact_lap(monkeypatch):
    monkeypatch.setattr(grid_module, "TILES_CELLS", 64)  # ~25 tiles on this grid, like 100k at 256 cells
    xy = clustered(1500, seed=11, k=10)
    cols, rows = grid_shape(len(xy))
    lap = assign_grid(xy, cols, rows, "lap")
    tiles = assign_grid(xy, cols, rows, "tiles")
    assert dpq(xy, tiles, 16) >= 0.98 * dpq(xy, lap, 16)
    # displacement is what lap minimises exactly; tiles give some of it up at their borders (here 1.20×)
    assert mean_squared_displacement(xy, tiles, cols, rows) <= 1.25 * mean_squared_displacement(xy, lap, cols, rows)


def test_auto_picks_exact_lap_for_small_and_fast_for_large(monkeypatch):
    xy = clustered(400, seed=12)
    cols, rows = grid_shape(len(xy))
    assert np.array_equal(assign_grid(xy, cols, rows, "auto"), assign_grid(xy, cols, rows, "lap"))
    monkeypatch.setattr(grid_module, "LAP_MAX_POINTS", 100)
    assert np.array_equal(assign_grid(xy, cols, rows, "auto"), assign_grid(xy, cols, rows, "fast"))


def test_rasterfairy_keeps_neighbours_together_and_leaves_numpy_alone():
    xy = clustered(500, seed=13)
    cols, rows = 25, 20  # RasterFairy slices by divisors: a prime side would give it 1-cell stripes
    fairy = assign_grid(xy, cols, rows, "rasterfairy")
    shuffled = fairy[np.random.default_rng(0).permutation(len(fairy))]
    assert dpq(xy, fairy, 16) > 0.85 > dpq(xy, shuffled, 16)
    assert spearmanr(xy[:, 0], fairy[:, 0])[0] > 0.85 and spearmanr(xy[:, 1], fairy[:, 1])[0] > 0.85
    assert "float" not in np.__dict__  # the np.float shim is gone after the call


def test_rasterfairy_is_not_fooled_by_unit_coordinates():
    # In [0, 1] every point truncates to 0 inside rasterfairy; the points must be spread out first.
    xy = np.random.default_rng(1).uniform(0, 1, (300, 2))
    cells = assign_grid(xy, 20, 15, "rasterfairy")
    assert spearmanr(xy[:, 0], cells[:, 0])[0] > 0.9


def test_bad_arguments_are_user_errors():
    xy = np.zeros((10, 2))
    with pytest.raises(UserError, match="unknown grid method"):
        assign_grid(xy, 5, 5, "hungarian")
    with pytest.raises(UserError, match="too few cells"):
        assign_grid(xy, 3, 3, "lap")
    with pytest.raises(ValueError):
        assign_grid(np.array([[0.0, np.nan]]), 2, 2, "lap")


def test_no_points_give_an_empty_assignment():
    assert assign_grid(np.zeros((0, 2)), 3, 3, "auto").shape == (0, 2)
