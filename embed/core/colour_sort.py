"""Polish a grid in a feature space: FLAS sorting the images' features, started from the t-SNE grid and
anchored to it.

t-SNE keeps neighbourhoods but not the smooth gradients of a direct sort: on photographs the blur layout's
grid was 1.5–1.6× less colour-smooth than FLAS sorting the same images' mean colours on the same grid
(docs/features.md). Here FLAS (vc-flas) sorts, per image, its feature row (centred, scaled to unit RMS
length) with its starting cell appended, divided by `radius`: moving an image `radius` cells costs as much
as its whole feature spread, so images travel a few cells, not across the grid, and the picture keeps the
t-SNE map's shape (images still fly from their t-SNE position to a nearby cell). Empty cells stay where
they are (the tail, embed/core/holes.py).
"""

from __future__ import annotations

import numpy as np

from embed.core.fastgrid import flas_polish


def polish_in_feature_space(cells: np.ndarray, features: np.ndarray, cols: int, rows: int, *,
                            radius: float, seed: int = 0) -> np.ndarray:
    """New (col, row) cells (N, 2) for images at `cells` (N, 2) on a cols × rows grid, FLAS-sorted by their
    `features` (N, D) and anchored to their starting cells with `radius` (cells; the core uses the layout
    recipe's colour_polish × the grid's longer side: 0.75 for the default blur layout, docs/features.md)."""
    cells = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    n = len(cells)
    if n < 2 or cols < 2 or rows < 2:
        return cells.copy()
    x = np.asarray(features, dtype=np.float64).reshape(n, -1)
    x = x - x.mean(axis=0)
    spread = np.sqrt((x**2).sum(axis=1).mean())
    x = x / spread if spread > 0 else x
    if not radius > 0:
        raise ValueError(f"polish radius must be positive, got {radius}")
    flat = flas_polish(np.concatenate([x, (cells + 0.5) / radius], axis=1), cells[:, 0] * rows + cells[:, 1],
                       cols, rows, seed=seed)
    return np.stack([flat // rows, flat % rows], axis=1)
