"""Scalable grid assignment: balanced tiles solved exactly, then polished by FLAS.

`assign_tiled` (embed.core.grid's ``fast`` and ``tiles`` methods) takes points already stretched onto
[0, cols] × [0, rows] and returns one distinct flat cell (col * rows + row) per point:

1. **Tiles.** A balanced recursive split (each half of the cells receives the points lying over it, as
   many as it holds) down to tiles of at most `tile_cells` cells, each solved exactly (lapjv). Before
   its costs are rounded to integers, every sub-problem's points are moved and scaled onto its cells
   (same centroid, same RMS spread). For a full tile this leaves the optimum unchanged
   (|p − c|² = |p|² − 2p·c + |c|²: a translation adds a per-column constant, a positive scale multiplies
   every p·c term); with empty cells it also spreads the holes over the tile. Without it the points of
   a dense t-SNE cluster sit tens of cells from their tile, the rounded costs become nearly linear and
   lapjv slow and coarse (issue 12 research: 100k took 26 s, mostly there).
2. **Seam passes** (optional; ``tiles`` uses them): exact re-solves of windows shifted by half a window.
3. **FLAS polish** (``fast``): vc-flas's FLAS started from the tiled arrangement, sorting the points' own
   2-D coordinates, empty cells frozen. It only swaps locally, so the grid keeps the map's shape, and
   it crosses tile borders: DPQ16 +0.004…0.026 at 4k over the tiles alone (docs/benchmarks.md).

There are no worker processes: 100k points take ~3 CPU-s in one process, and cutting the grid into
strips solved side by side lowered DPQ16 at 100k from 0.912 to 0.903 (2 strips) and 0.876 (4 strips).
"""

from __future__ import annotations

import math

import lapjv
import numpy as np

TILE_CELLS = 64            # largest tile of the recursive split, cells (``fast``)
WINDOW_SIDE = 8            # seam windows are WINDOW_SIDE × WINDOW_SIDE cells
SEAM_PASSES = ((1, 0), (0, 1), (1, 1))   # window offsets in half windows: across, down, both
COST_SCALE = 2**16         # largest integer cost handed to lapjv by a tile or window


def assign_tiled(points: np.ndarray, cols: int, rows: int, *, tile_cells: int = TILE_CELLS,
                 window_side: int = WINDOW_SIDE, seam_passes: tuple[tuple[int, int], ...] = (),
                 polish: bool = True) -> np.ndarray:
    """Flat cell (col * rows + row) of every point of `points` (N, 2), stretched onto [0, cols] × [0, rows];
    no two points share a cell (module docstring: tiles, optional seam passes, optional FLAS polish)."""
    points = np.asarray(points, dtype=np.float64)
    n = len(points)
    if cols * rows < n:
        raise ValueError(f"a {cols}×{rows} grid has too few cells for {n} points")
    cell = np.empty(n, dtype=np.int64)
    pending = [(np.arange(n), 0, 0, cols, rows)]
    while pending:
        sub, tx, ty, tw, th = pending.pop()
        if tw * th <= tile_cells:
            cell[sub] = lap_cells(points[sub], rect_cells(tx, ty, tw, th, rows), rows)
            continue
        axis, half = (0, tw // 2) if tw >= th else (1, th // 2)
        first_cells = half * th if axis == 0 else tw * half
        coord = points[sub, axis]
        first = int(np.clip((coord < (tx, ty)[axis] + half).sum(), len(sub) - (tw * th - first_cells), first_cells))
        order = np.argpartition(coord, first - 1) if 0 < first < len(sub) else np.argsort(coord, kind="stable")
        lo, hi = sub[order[:first]], sub[order[first:]]
        if axis == 0:
            pending += [(lo, tx, ty, half, th), (hi, tx + half, ty, tw - half, th)]
        else:
            pending += [(lo, tx, ty, tw, half), (hi, tx, ty + half, tw, th - half)]
    if seam_passes and cols * rows > tile_cells:
        occupant = np.full(cols * rows, -1, dtype=np.int64)
        occupant[cell] = np.arange(n)
        for fx, fy in seam_passes:
            for wx in range(-(fx * window_side // 2), cols, window_side):
                for wy in range(-(fy * window_side // 2), rows, window_side):
                    _resolve_window(points, cell, occupant, (wx, wy, window_side, window_side), cols, rows)
    if polish and cols >= 2 and rows >= 2 and n > 1:
        cell = flas_polish(points, cell, cols, rows)
    return cell


def lap_cells(points: np.ndarray, cells: np.ndarray, rows: int, *, recentre: bool = True,
              scale: int = COST_SCALE) -> np.ndarray:
    """Exact assignment of `points` to distinct cells among the flat `cells` (col * rows + row), minimising
    the total squared distance to the cell centres after integer rounding at `scale`; with `recentre` the
    points are first moved and scaled onto the cells (module docstring, step 2). Returns each point's cell."""
    n = len(points)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    centres = np.stack([cells // rows, cells % rows], axis=1) + 0.5
    p = points
    if recentre:
        p = points - points.mean(axis=0)
        spread = math.sqrt(float((p**2).sum()) / n)
        centre = centres.mean(axis=0)
        target = math.sqrt(float(((centres - centre) ** 2).sum()) / len(centres))
        p = p * (target / spread if spread > 0 else 0.0) + centre
    cost = ((p[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    top = cost.max()
    square = np.zeros((len(cells), len(cells)), dtype=np.int32)   # zero-cost dummy rows for empty cells
    square[:n] = np.rint(cost * (scale / top)) if top > 0 else 0
    return cells[lapjv.lapjv(square)[0][:n]]


def rect_cells(x0: int, y0: int, w: int, h: int, rows: int) -> np.ndarray:
    """Flat indices (col * rows + row) of the cells of a rectangle, column by column."""
    return ((np.arange(x0, x0 + w) * rows)[:, None] + np.arange(y0, y0 + h)[None, :]).ravel()


def flas_polish(points: np.ndarray, cell: np.ndarray, cols: int, rows: int, *, radius_decay: float = 0.93,
                seed: int = 0) -> np.ndarray:
    """FLAS (vc-flas) over a cols × rows grid started from the flat cells `cell`, sorting the points'
    coordinates; empty cells stay where they are. Returns the new flat cells."""
    import vc_flas   # imported late: only ``fast`` needs it

    n = len(points)
    ids = np.full((rows, cols), -1, dtype=np.int32)
    ids[cell % rows, cell // rows] = np.arange(n, dtype=np.int32)
    grid = vc_flas.Grid(np.ascontiguousarray(points, dtype=np.float32), ids, ids < 0, np.arange(n, dtype=np.uint32))
    sorting = vc_flas.flas(grid, radius_decay=radius_decay, seed=seed).sorting
    r, c = np.nonzero(sorting >= 0)
    out = np.empty(n, dtype=np.int64)
    out[sorting[r, c]] = c * rows + r
    return out


def _resolve_window(points: np.ndarray, cell: np.ndarray, occupant: np.ndarray, window: tuple[int, int, int, int],
                    cols: int, rows: int) -> None:
    """Re-solve exactly, in place, the points occupying `window` (x, y, w, h) clipped to the grid."""
    wx, wy, ww, wh = window
    xa, ya, xb, yb = max(wx, 0), max(wy, 0), min(wx + ww, cols), min(wy + wh, rows)
    if xb <= xa or yb <= ya:
        return
    cells = rect_cells(xa, ya, xb - xa, yb - ya, rows)
    who = occupant[cells]
    who = who[who >= 0]
    if len(who) < 2:
        return
    new = lap_cells(points[who], cells, rows)
    occupant[cells] = -1
    occupant[new] = who
    cell[who] = new
