"""A layout's map as the core keeps it between runs (`MapLayout`), and a saved map looked up for this run's
images (`KeptMap`): what embed/core/layouts.py continues instead of starting again (embed/build/positions.py saves them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embed.core.reduce import Projection


@dataclass
class MapLayout:
    """What one layout keeps: positions and cells of its images (rows in the map's id order), how feature
    rows become t-SNE input, and how raw t-SNE positions are aligned (aligned = xy @ matrix + offset)."""

    xy: np.ndarray           # (S, 2) raw t-SNE
    grid: np.ndarray         # (S, 2) int (col, row)
    projection: Projection
    matrix: np.ndarray       # (2, 2)
    offset: np.ndarray       # (2,)
    box: np.ndarray          # (2, 2) lowest and highest aligned position of the cold run: new images go inside

    def aligned(self, xy: np.ndarray | None = None) -> np.ndarray:
        """`xy` (default: every kept position) aligned as the layout was."""
        return (self.xy if xy is None else xy) @ self.matrix + self.offset


@dataclass
class KeptMap:
    """A saved map, looked up for the images of this run."""

    rows: np.ndarray                 # (N,) row of each image in the saved arrays, -1 for a new image
    cols: int
    grid_rows: int
    layouts: dict[str, MapLayout]
    dial_positions: np.ndarray | None = None   # a dial's stops as the saved run spaced them

    @property
    def new(self) -> np.ndarray:
        """(N,) bool: images without a saved position."""
        return self.rows < 0
