"""Empty cells kept out of the picture: what counts as interior, the tail, and closing holes by slides."""

from __future__ import annotations

import numpy as np

from embed.core.holes import close_holes, interior_holes, interior_mask, tail_mask


def test_an_empty_cell_is_interior_with_images_on_both_sides_in_its_row_or_column():
    taken = np.ones((5, 4), dtype=bool)          # (cols, rows)
    taken[2, 1] = False                           # among images: interior
    taken[4, 3] = taken[3, 3] = False             # the end of the last row: not interior
    taken[0, 0] = False                           # a corner: images on one side only
    mask = interior_mask(taken)
    assert mask[2, 1] and not mask[4, 3] and not mask[3, 3] and not mask[0, 0]
    assert mask.sum() == 1


def test_the_tail_is_the_end_of_the_last_row_in_reading_order():
    tail = tail_mask(17, 5, 4)                   # 20 cells, 3 spare
    assert np.argwhere(tail).tolist() == [[2, 3], [3, 3], [4, 3]]
    assert not tail_mask(20, 5, 4).any()


def test_close_holes_slides_every_hole_into_the_tail_moving_images_little():
    rng = np.random.default_rng(0)
    cols, rows, n = 40, 25, 960                   # 40 holes scattered over the grid
    flat = np.sort(rng.choice(cols * rows, n, replace=False))
    cells = np.stack([flat // rows, flat % rows], axis=1)
    assert interior_holes(cells, cols, rows) > 20
    closed = close_holes(cells, cols, rows)
    assert len({tuple(c) for c in closed.tolist()}) == n
    assert not tail_mask(n, cols, rows)[closed[:, 0], closed[:, 1]].any()
    assert interior_holes(closed, cols, rows) == 0
    moved = np.abs(closed - cells).max(axis=1)
    assert np.median(moved) == 0 and moved.mean() < 2, moved.mean()
