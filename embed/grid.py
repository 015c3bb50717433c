"""Snap 2-D points onto a grid, one point per cell, keeping neighbours near each other.

Methods (see docs/benchmarks.md, "## Grid", for the measurements behind the choices):
- ``lap``: exact linear assignment minimising the total squared displacement (lapjv on integer-scaled
  costs; N² memory, about N^2.7 time: a few thousand points).
- ``tiles``: the grid is split recursively in halves, each half receiving the points that lie over it
  (as many as it holds), down to tiles of at most `TILE_CELLS` cells solved exactly; exact passes over
  windows straddling the tile borders then remove the seams. 100k points in ~30 s on 2 busy cores,
  DPQ16 within ~1 % of ``lap``.
- ``rasterfairy``: Mario Klingemann's RasterFairy (rasterfairy-py3), a fast recursive slicing.
- ``auto``: ``lap`` up to `LAP_MAX_POINTS`, ``tiles`` above.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import lapjv
import numpy as np

from layoutfile import UserError

METHODS = ("auto", "lap", "tiles", "rasterfairy")
LAP_MAX_POINTS = 2000
TILE_CELLS = 256
_COST_SCALE = 2**20  # largest integer cost handed to lapjv


def grid_shape(n: int, aspect: float = 16 / 9) -> tuple[int, int]:
    """(cols, rows) of a grid holding `n` cells or a few more, as near the aspect ratio cols/rows as
    possible while leaving few cells empty."""
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
    """Integer (col, row) for every point of `xy` (N, 2), no two points in one cell. The points are
    first stretched to cover the grid (each axis on its own), so only their relative layout matters."""
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
        method = "lap" if n <= LAP_MAX_POINTS else "tiles"
    points = _fit_to_grid(xy, cols, rows)
    if method == "rasterfairy":
        return _rasterfairy(points, cols, rows)
    if method == "lap":
        cell = _lap(points, np.arange(cols * rows), rows)
    else:
        cell = _tiles(points, cols, rows)
    return np.stack([cell // rows, cell % rows], axis=1)


def _fit_to_grid(xy: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """Stretch each axis of the points onto [0, cols] × [0, rows]; a flat axis goes to the middle."""
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    unit = np.divide(xy - lo, span, out=np.full_like(xy, 0.5), where=span > 0)
    return unit * np.array([cols, rows], dtype=np.float64)


def _lap(points: np.ndarray, cells: np.ndarray, rows: int) -> np.ndarray:
    """Exact assignment of `points` (grid units) to the flat cell indices `cells` (col * rows + row),
    minimising total squared distance to the cell centres; returns each point's cell."""
    n = len(points)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    centres = np.stack([cells // rows, cells % rows], axis=1) + 0.5
    cost = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    top = cost.max()
    square = np.zeros((len(cells), len(cells)), dtype=np.int32)  # zero-cost dummy rows for empty cells
    square[:n] = np.rint(cost * (_COST_SCALE / top)) if top > 0 else 0
    column_of_row = lapjv.lapjv(square)[0]
    return cells[column_of_row[:n]]


def _tiles(points: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """Recursive halving into tiles of at most TILE_CELLS cells with exact assignment inside each tile,
    then exact passes over windows straddling the tile borders."""
    cell = np.empty(len(points), dtype=np.int64)
    pending = [(np.arange(len(points)), 0, 0, cols, rows)]
    while pending:
        idx, x0, y0, w, h = pending.pop()
        if w * h <= TILE_CELLS:
            cell[idx] = _lap(points[idx], _rect_cells(x0, y0, w, h, rows), rows)
            continue
        axis, half = (0, w // 2) if w >= h else (1, h // 2)
        first_cells = half * h if axis == 0 else w * half
        coord = points[idx, axis]
        cut = (x0, y0)[axis] + half
        first = int(np.clip((coord < cut).sum(), len(idx) - (w * h - first_cells), first_cells))
        order = np.argsort(coord, kind="stable")
        lo, hi = idx[order[:first]], idx[order[first:]]
        if axis == 0:
            pending += [(lo, x0, y0, half, h), (hi, x0 + half, y0, w - half, h)]
        else:
            pending += [(lo, x0, y0, w, half), (hi, x0, y0 + half, w, h - half)]
    if cols * rows > TILE_CELLS:
        _refine(points, cell, cols, rows)
    return cell


def _refine(points: np.ndarray, cell: np.ndarray, cols: int, rows: int) -> None:
    """Re-solve exactly, in place, the points inside square windows of about TILE_CELLS cells laid out
    with offsets of half a window (across, down, then both), so that tile seams are optimised too."""
    side = math.isqrt(TILE_CELLS)
    occupant = np.full(cols * rows, -1, dtype=np.int64)
    occupant[cell] = np.arange(len(cell))
    for shift_x, shift_y in ((side // 2, 0), (0, side // 2), (side // 2, side // 2)):
        for x0 in range(-shift_x, cols, side):
            for y0 in range(-shift_y, rows, side):
                xa, ya = max(x0, 0), max(y0, 0)
                cells = _rect_cells(xa, ya, min(x0 + side, cols) - xa, min(y0 + side, rows) - ya, rows)
                idx = occupant[cells]
                idx = idx[idx >= 0]
                new = _lap(points[idx], cells, rows)
                occupant[cells] = -1
                occupant[new] = idx
                cell[idx] = new


def _rect_cells(x0: int, y0: int, w: int, h: int, rows: int) -> np.ndarray:
    """Flat indices (col * rows + row) of the cells of a rectangle."""
    c, r = np.meshgrid(np.arange(x0, x0 + w), np.arange(y0, y0 + h), indexing="ij")
    return (c * rows + r).ravel()


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
    spread = points * (_COST_SCALE / max(cols, rows))
    with _numpy_float_alias():
        placed, _ = rasterfairy.transformPointCloud2D(spread, target=(cols, rows))
    return np.rint(placed[:n]).astype(np.int64)
