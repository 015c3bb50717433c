"""The colour polish of a grid: smoother colours than its start, a bounded journey, the tail left empty."""

from __future__ import annotations

import numpy as np

from embed.core.colour_sort import polish_in_feature_space
from embed.core.grid import assign_grid
from embed.core.holes import interior_holes, tail_mask
from embed.core.metrics import neighbour_colour_distance


def test_polish_smooths_colours_keeps_the_map_and_leaves_the_tail_empty():
    rng = np.random.default_rng(0)
    n, cols, rows = 590, 30, 20                    # 10 spare cells: the end of the last row
    xy = rng.uniform(0, 1, (n, 2))
    colours = np.concatenate([60 * xy, rng.normal(0, 15, (n, 1))], axis=1)   # a gradient plus noise: a map
    start = assign_grid(xy + rng.normal(0, 0.08, (n, 2)), cols, rows)         # that t-SNE placed roughly
    polished = polish_in_feature_space(start, colours, cols, rows, radius=0.75 * cols)
    assert len({tuple(c) for c in polished.tolist()}) == n
    assert not tail_mask(n, cols, rows)[polished[:, 0], polished[:, 1]].any()
    assert interior_holes(polished, cols, rows) == 0
    assert neighbour_colour_distance(polished, colours) < 0.85 * neighbour_colour_distance(start, colours)
    assert np.linalg.norm(polished - start, axis=1).mean() < 4    # a few cells, not across the grid
    assert np.corrcoef(polished[:, 0], start[:, 0])[0, 1] > 0.9


def test_a_tight_radius_keeps_images_nearer_their_start():
    rng = np.random.default_rng(1)
    colours = rng.normal(0, 20, (400, 3))
    start = assign_grid(rng.uniform(0, 1, (400, 2)), 25, 16)
    journey = {r: np.linalg.norm(polish_in_feature_space(start, colours, 25, 16, radius=r) - start, axis=1).mean()
               for r in (3, 30)}
    assert journey[3] < journey[30]
