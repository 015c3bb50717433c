"""The grid of an incremental run: old images keep their cells, new ones are fitted in locally, and no hole
is left inside the picture.

- **Room left** (cols × rows ≥ images): the new images take the free cells that lie before the grid's
  tail (embed/core/holes.py: the end of the last row stays the only empty part), from one exact assignment
  minimising the total number of cells between each new image's target (its t-SNE position stretched
  onto the grid) and its free cell, over the FREE_CANDIDATES free cells nearest each. A cold grid has no
  other free cells than its tail, so these are the cells just after the last image. Then each new image
  is carried to the cell under its target: every old image on the king-move path between the two cells
  shifts one cell towards the free one. Paths from the end of the last row meet near it, so an old image
  there may shift again (3,000 + 1 %: 81 % of the old images keep their cell, 98 % within one, at most 5;
  new ones land 2.7 cells from their target; docs/benchmarks.md).
- **Too small.** The grid grows to `grid_shape(images)` (no side shrinks) by inserting empty columns and
  rows at the new images' quantiles: old images shift by the lines inserted before them and keep their
  order. Then the room case runs.
- **No holes.** Last, the empty cells left inside the picture (freed by removed images, or the part of the
  inserted lines no new image took) slide to the end of the last row (embed.core.holes.close_holes): the images
  between shift by one cell each. A hole that could not be moved is counted (`interior_holes`, a metric of
  the layout) and a cold run (`--fresh`) removes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from embed.core.grid import grid_shape
from embed.core.holes import close_holes, tail_mask

MAX_SPARE = 0.10        # a kept grid with more spare cells than this (images removed) is solved afresh
FREE_CANDIDATES = 32    # free cells considered per new image in the assignment


@dataclass
class Repair:
    """A repaired grid: cells of the kept old images (in their order), then of the new ones."""

    cells: np.ndarray   # (kept + new, 2) int (col, row)
    cols: int
    rows: int


def keeps_grid(cols: int, rows: int, n: int, aspect: float) -> bool:
    """Whether a saved cols × rows grid can take `n` images (growing if need be) without being left mostly
    empty: at most MAX_SPARE more cells than a fresh grid for `n` would have."""
    fresh_cols, fresh_rows = grid_shape(n, aspect, spare=MAX_SPARE)
    return cols * rows <= fresh_cols * fresh_rows


def repair_grid(old_cells: np.ndarray, new_targets: np.ndarray, cols: int, rows: int, aspect: float) -> Repair:
    """Cells for the kept old images at `old_cells` (K, 2) and new images whose t-SNE positions, in the
    cols × rows grid's units, are `new_targets` (M, 2); see the module docstring."""
    old_cells = np.asarray(old_cells, dtype=np.int64).reshape(-1, 2)
    new_targets = np.asarray(new_targets, dtype=np.float64).reshape(-1, 2)
    n = len(old_cells) + len(new_targets)
    if cols * rows < n:
        grown_cols, grown_rows = grid_shape(n, aspect)
        grown_cols, grown_rows = max(grown_cols, cols), max(grown_rows, rows)
        at_cols = _insert_positions(new_targets[:, 0], grown_cols - cols, cols)
        at_rows = _insert_positions(new_targets[:, 1], grown_rows - rows, rows)
        old_cells = np.stack([old_cells[:, 0] + np.searchsorted(at_cols, old_cells[:, 0], side="right"),
                              old_cells[:, 1] + np.searchsorted(at_rows, old_cells[:, 1], side="right")], axis=1)
        new_targets = new_targets + np.stack([np.searchsorted(at_cols, new_targets[:, 0], side="right"),
                                              np.searchsorted(at_rows, new_targets[:, 1], side="right")], axis=1)
        cols, rows = grown_cols, grown_rows
    return Repair(close_holes(_fill(old_cells, new_targets, cols, rows), cols, rows), cols, rows)


def _insert_positions(coord: np.ndarray, count: int, size: int) -> np.ndarray:
    """Sorted old line indices before which `count` empty lines go: the new points' quantiles."""
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    if len(coord) == 0:
        return np.round(np.linspace(0, size, count + 2)[1:-1]).astype(np.int64)
    quantiles = np.quantile(coord, (np.arange(count) + 0.5) / count)
    return np.sort(np.clip(np.round(quantiles), 0, size).astype(np.int64))


def _fill(old_cells: np.ndarray, new_targets: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """Old cells fixed, new images into free cells, then carried to their target cells (module docstring)."""
    occupant = np.full((cols, rows), -1, dtype=np.int64)
    occupant[old_cells[:, 0], old_cells[:, 1]] = np.arange(len(old_cells))
    holes = _assign_free(new_targets, _free_cells(occupant, len(old_cells) + len(new_targets)))
    cells = np.concatenate([old_cells, holes]).astype(np.int64)
    n_old = len(old_cells)
    occupant[holes[:, 0], holes[:, 1]] = n_old + np.arange(len(holes))
    want = np.minimum(np.floor(new_targets).astype(np.int64), [cols - 1, rows - 1])
    for j in np.argsort(np.abs(holes - want).max(axis=1), kind="stable"):   # short paths first
        _carry(occupant, cells, n_old, n_old + j, want[j])
    return cells


def _free_cells(occupant: np.ndarray, n: int) -> np.ndarray:
    """The free cells new images may take in a grid that will hold `n` images: those outside its tail
    (embed.core.holes), then, if they are too few, the tail's first free cells in reading order."""
    cols, rows = occupant.shape
    free = occupant < 0
    outside = np.argwhere(free & ~tail_mask(n, cols, rows))
    missing = n - (occupant >= 0).sum() - len(outside)
    if missing <= 0:
        return outside
    tail = np.argwhere(free & tail_mask(n, cols, rows))
    first = np.argsort(tail[:, 1] * cols + tail[:, 0], kind="stable")[:missing]
    return np.concatenate([outside, tail[first]])


def _assign_free(targets: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Distinct free cells for `targets` minimising the total Chebyshev distance (squared distance breaks
    ties), over the union of each target's FREE_CANDIDATES nearest free cells (widened until it can hold
    them all)."""
    m = len(targets)
    if m == 0:
        return np.empty((0, 2), dtype=np.int64)
    centres = free + 0.5
    tree = cKDTree(centres)
    k = min(FREE_CANDIDATES, len(free))
    while True:
        _, candidates = tree.query(targets, k=k, p=np.inf)
        union = np.unique(np.asarray(candidates).reshape(m, -1))
        if len(union) >= m or k >= len(free):
            break
        k = min(2 * k, len(free))
    diff = np.abs(targets[:, None, :] - centres[union][None, :, :])
    cost = np.floor(diff + 0.5).max(axis=2) + 1e-3 * (diff**2).sum(axis=2)
    picked_rows, picked_cols = linear_sum_assignment(cost)
    out = np.empty((m, 2), dtype=np.int64)
    out[picked_rows] = free[union[picked_cols]]
    return out


def _carry(occupant: np.ndarray, cells: np.ndarray, n_old: int, who: int, want: np.ndarray) -> None:
    """Move new image `who` from its free cell towards `want` along a king-move path, each image on the path
    shifting one cell back along it; stop before a new image already placed (old images may shift again:
    the paths from the end of the last row meet near it)."""
    path = [cells[who].copy()]
    while (path[-1] != want).any():
        step = path[-1] + np.sign(want - path[-1])
        if occupant[step[0], step[1]] >= n_old:
            break
        path.append(step)
    for here, there in zip(path[:-1], path[1:]):   # the occupant of `there` moves into `here`
        occ = occupant[there[0], there[1]]
        occupant[here[0], here[1]] = occ
        if occ >= 0:
            cells[occ] = here
    end = path[-1]
    occupant[end[0], end[1]] = who
    cells[who] = end
