"""Snap 2-D points onto a grid, one point per cell, keeping neighbours near each other.

Methods (see docs/benchmarks.md, "## Grid", for the measurements behind the choices):
- ``lap``: exact linear assignment minimising the total squared displacement (lapjv on integer-scaled
  costs; N² memory, about N^2.7 time: a few thousand points).
- ``fast``: balanced tiles of 64 cells solved exactly, then a FLAS polish (embed/core/fastgrid.py); 100k points
  in a few CPU seconds, DPQ16 within 2 % of ``lap`` at 4k and above ``tiles`` and ``rasterfairy``.
- ``tiles``: the previous scalable method, kept for comparison: tiles of 256 cells and exact passes over
  windows straddling the tile borders (embed/core/fastgrid.py, without the polish).
- ``rasterfairy``: Mario Klingemann's RasterFairy (rasterfairy-py3), a fast recursive slicing.
- ``auto``: ``lap`` up to `LAP_MAX_POINTS`, ``fast`` above.

Empty cells (cols × rows − N of them) lie only at the end of the last row (embed/core/holes.py): ``lap`` assigns
the points to the other cells; the other methods' empty cells are slid there afterwards (`close_holes`).
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np

from embed.core.fastgrid import SEAM_PASSES, assign_tiled, lap_cells
from embed.core.holes import close_holes, tail_mask
from layoutfile import UserError

METHODS = ("auto", "lap", "fast", "tiles", "rasterfairy")
LAP_MAX_POINTS = 3000   # exact up to here: ~4 s at 3,000 points; `fast` grouped categories 0.6 % less on 2,158 photos (docs/benchmarks.md)
TILES_CELLS = 256   # tile size of ``tiles`` (its seam windows are 16 × 16)
_LAP_COST_SCALE = 2**20  # largest integer cost handed to lapjv by ``lap``


def grid_shape(n: int, aspect: float = 16 / 9, *, spare: float = 0.0) -> tuple[int, int]:
    """(cols, rows) of a grid holding `n` cells or a few more (at least `spare` × n more), as near the aspect
    ratio cols/rows as possible while leaving few cells empty."""
    n = math.ceil(n * (1 + spare)) if n >= 1 else n
    if n < 1:
        raise UserError(f"cannot lay out {n} images: need at least one")
    if not aspect > 0:
        raise UserError(f"grid aspect ratio must be positive, got {aspect}")
    ideal_rows = math.sqrt(n / aspect)

    def badness(rows: int) -> float:
        cols = math.ceil(n / rows)
        return (cols * rows - n) / n + abs(math.log(cols / rows / aspect))

    candidates = range(max(1, math.floor(ideal_rows) - 2), min(n, math.ceil(ideal_rows) + 2) + 1)
    rows = min(candidates, key=badness)
    return math.ceil(n / rows), rows


def assign_grid(xy: np.ndarray, cols: int, rows: int, method: str = "auto") -> np.ndarray:
    """Integer (col, row) for every point of `xy` (N, 2), no two points in one cell, empty cells only at the
    end of the last row. The points are first stretched to cover the grid (each axis on its own), so only
    their relative layout matters."""
    if method not in METHODS:
        raise UserError(f"unknown grid method {method!r}: choose one of {', '.join(METHODS)}")
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or not np.isfinite(xy).all():
        raise ValueError(f"xy must be a finite (N, 2) array, got shape {xy.shape}")
    n = len(xy)
    if cols < 1 or rows < 1 or cols * rows < n:
        raise UserError(f"a {cols}×{rows} grid has too few cells for {n} images")
    if n == 0:
        return np.empty((0, 2), dtype=np.int64)
    if method == "auto":
        method = "lap" if n <= LAP_MAX_POINTS else "fast"
    points = fit_to_grid(xy, cols, rows)
    if method == "lap":
        free = np.flatnonzero(~tail_mask(n, cols, rows).ravel())   # flat col * rows + row, the tail left out
        cell = lap_cells(points, free, rows, recentre=False, scale=_LAP_COST_SCALE)
        return np.stack([cell // rows, cell % rows], axis=1)
    if method == "rasterfairy":
        cells = _rasterfairy(points, cols, rows)
    else:
        if method == "fast":
            cell = assign_tiled(points, cols, rows)
        else:
            cell = assign_tiled(points, cols, rows, tile_cells=TILES_CELLS, window_side=math.isqrt(TILES_CELLS),
                                seam_passes=SEAM_PASSES, polish=False)
        cells = np.stack([cell // rows, cell % rows], axis=1)
    return close_holes(cells, cols, rows)


def fit_to_grid(xy: np.ndarray, cols: int, rows: int, within: np.ndarray | None = None) -> np.ndarray:
    """Stretch each axis of the points' bounding box (or of the box of the points `within`) onto
    [0, cols] × [0, rows]; a flat axis goes to the middle."""
    box = xy if within is None else within
    lo, span = box.min(axis=0), np.ptp(box, axis=0)
    unit = np.divide(xy - lo, span, out=np.full_like(xy, 0.5), where=span > 0)
    return unit * np.array([cols, rows], dtype=np.float64)


@contextmanager
def _numpy_float_alias():
    """rasterfairy-py3 1.0.5 still calls `np.float`, removed in numpy 1.24: lend it for the call only."""
    had = "float" in np.__dict__
    np.float = float
    try:
        yield
    finally:
        if not had:
            del np.float


def _rasterfairy(points: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """RasterFairy with an explicit target (its automatic one is ~400× slower). Its slicing can loop
    forever when the grid has more cells than points, so the emptiest cells get a stand-in point each
    and the stand-ins are dropped afterwards. It orders points by `astype(int)` of their coordinates, so
    they are spread over 2^20 units first to keep their order."""
    import rasterfairy  # imported late: its import alone takes ~0.4 s

    n, spare = len(points), cols * rows - len(points)
    if spare:
        col_row = np.minimum(points.astype(np.int64), [cols - 1, rows - 1])
        crowd = np.bincount(col_row[:, 0] * rows + col_row[:, 1], minlength=cols * rows)
        empty = np.argsort(crowd, kind="stable")[:spare]
        points = np.concatenate([points, np.stack([empty // rows, empty % rows], axis=1) + 0.5])
    spread = points * (_LAP_COST_SCALE / max(cols, rows))
    with _numpy_float_alias():
        placed, _ = rasterfairy.transformPointCloud2D(spread, target=(cols, rows))
    return np.rint(placed[:n]).astype(np.int64)
