"""Empty cells of a grid kept out of the picture: only the end of the last row (reading order) may be empty.

An empty cell is **interior** when it has an occupied cell on both sides of it in its row, or on both sides of
it in its column: a poster or the gallery shows it as a gap among images. The **tail** of a grid holding n
images is its last cols × rows − n cells in reading order (row by row, left to right): the end of the last
row, and whole empty rows below it if there are that many spare cells. Empty cells that all lie in the
tail are never interior.

`close_holes` moves every empty cell outside the tail into it: each such hole is paired with an occupied
tail cell (one exact assignment minimising the king-move distance), and the images on the king-move path
between the two shift towards the hole, like a sliding puzzle (by one cell, or more where the path crosses
other empty cells). The tail is emptied from its far end. An image moves by about one cell per path that
crosses it, and the grid keeps its shape.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

MAX_ROUNDS = 64   # passes of close_holes (a path that meets another hole closes that one instead)


def occupancy(cells: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """(cols, rows) array: the index of the image in each cell, -1 where empty."""
    cells = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    occupant = np.full((cols, rows), -1, dtype=np.int64)
    occupant[cells[:, 0], cells[:, 1]] = np.arange(len(cells))
    return occupant


def interior_mask(taken: np.ndarray) -> np.ndarray:
    """Boolean (cols, rows): the empty cells of the occupancy `taken` (bool, (cols, rows)) that are interior."""
    def between(axis: int) -> np.ndarray:
        before = np.maximum.accumulate(taken, axis=axis)
        after = np.flip(np.maximum.accumulate(np.flip(taken, axis=axis), axis=axis), axis=axis)
        return before & after
    return ~taken & (between(0) | between(1))


def interior_holes(cells: np.ndarray, cols: int, rows: int) -> int:
    """Number of interior empty cells of a grid whose images sit at `cells` (N, 2) (col, row)."""
    return int(interior_mask(occupancy(cells, cols, rows) >= 0).sum())


def tail_mask(n: int, cols: int, rows: int) -> np.ndarray:
    """Boolean (cols, rows): the tail of a cols × rows grid holding `n` images (module docstring)."""
    reading = np.arange(cols * rows).reshape(rows, cols).T   # (col, row) → position in reading order
    return reading >= n


def close_holes(cells: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """`cells` (N, 2) with every empty cell outside the tail moved into it by one-cell shifts (module
    docstring); returns new cells (a copy). Empty cells left outside the tail, if any, are interior_holes."""
    cells = np.array(cells, dtype=np.int64).reshape(-1, 2)
    occupant = occupancy(cells, cols, rows)
    tail = tail_mask(len(cells), cols, rows)
    left = -1
    for _ in range(MAX_ROUNDS):
        holes = np.argwhere((occupant < 0) & ~tail)
        if len(holes) in (0, left):   # done, or a round closed none
            break
        left = len(holes)
        fill = np.argwhere((occupant >= 0) & tail)
        cost = np.abs(holes[:, None, :] - fill[None, :, :]).max(axis=2)
        pick_h, pick_f = linear_sum_assignment(cost)
        reading = fill[pick_f, 1] * cols + fill[pick_f, 0]
        for j in np.argsort(-reading, kind="stable"):   # the tail's far end first
            _slide(occupant, cells, holes[pick_h[j]], fill[pick_f[j]])
    return cells


def _slide(occupant: np.ndarray, cells: np.ndarray, hole: np.ndarray, source: np.ndarray) -> None:
    """Pack the images on the king-move path from `hole` to `source` towards the hole, keeping their order:
    each moves back along the path by the number of empty cells before it, and the path's empty cells end
    up at its far end, in the tail (a path that crosses other holes closes them too)."""
    path = [hole.copy()]
    while (path[-1] != source).any():
        path.append(path[-1] + np.sign(source - path[-1]))
    at = np.array(path)
    who = occupant[at[:, 0], at[:, 1]]
    packed = np.full(len(path), -1, dtype=np.int64)
    images = who[who >= 0]
    packed[:len(images)] = images
    occupant[at[:, 0], at[:, 1]] = packed
    cells[images] = at[:len(images)]
