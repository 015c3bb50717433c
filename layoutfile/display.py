"""The t-SNE state as it is displayed (contract v2; layoutfile/validate.py checks the keys): display positions, image size, the fit into the grid's box.

A layout may hold, besides its raw t-SNE map `tsne`, the positions at which the t-SNE state is drawn
(`tsne_display`, same convention as `tsne`) and the side of an image there (`tsne_image_size`, in grid
cells). Absent keys (every v1 file) mean: draw the raw map, at the grid's image size.

World units are the sketch's: one grid cell is 1 × 1, the grid spans [0, cols] × [0, rows], and a
t-SNE cloud is scaled uniformly so its image centres fill [0.5, cols − 0.5] × [0.5, rows − 0.5], centred
(`tsne_world`). Sketch, recorder, poster and embed's overlap metrics all place images this way.
"""

from __future__ import annotations

import numpy as np

DISPLAY_KEY, SIZE_KEY = "tsne_display", "tsne_image_size"


def fit_into_box(points: np.ndarray, width: float, height: float, x0: float, y0: float) -> np.ndarray:
    """Scale (N, 2) points uniformly so their bounding box fits width × height at (x0, y0), centred (float64)."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) == 0:
        return np.zeros((0, 2))
    lo, hi = points.min(axis=0), points.max(axis=0)
    extent = np.maximum(hi - lo, 1e-12)
    scale = min(width / extent[0], height / extent[1]) if np.any(hi > lo) else 0.0
    return (points - (lo + hi) / 2) * scale + np.array([x0 + width / 2, y0 + height / 2])


def tsne_world(points: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """Image centres in world units of a t-SNE array (`tsne` or `tsne_display`) on a cols × rows grid."""
    return fit_into_box(points, cols - 1.0, rows - 1.0, 0.5, 0.5)


def display_arrays(doc: dict, name: str) -> tuple[np.ndarray, float | None]:
    """(positions (N, 2) float64 in [0, 1]², image side in grid cells or None) of layout `name`'s t-SNE
    state in a validated document: `tsne_display` if present, else the raw `tsne`; None = the grid's size."""
    layout = doc["layouts"][name]
    n = len(doc["images"])
    positions = np.asarray(layout.get(DISPLAY_KEY, layout["tsne"]), dtype=np.float64).reshape(n, 2)
    size = layout.get(SIZE_KEY)
    return positions, None if size is None else float(size)
