"""The two layouts of a build: t-SNE of each feature matrix (combined aligned onto blur), snapped to the grid,
spread for display (embed/spread.py), measured."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

from embed.grid import assign_grid
from embed.metrics import layout_metrics
from embed.options import BuildOptions
from embed.reduce import normalise_unit, procrustes_align, reduce_to_2d
from embed.spread import spread_layout
from layoutfile import LAYOUTS

LABELS = {"blur": "Blur only", "combined": "Original + blur"}

Stage = Callable[[str], AbstractContextManager]   # stage("tsne:blur") times (or otherwise watches) a stage


@dataclass
class Layout:
    """One layout: raw t-SNE coordinates (kept for the next run), normalised ones, grid cells, the t-SNE
    state's display positions and image side, and metrics."""

    label: str
    xy: np.ndarray        # (N, 2) raw t-SNE
    tsne: np.ndarray      # (N, 2) in [0, 1]², aspect kept
    grid: np.ndarray      # (N, 2) integer (col, row)
    display: np.ndarray   # (N, 2) in [0, 1]²: where the t-SNE state draws the images (no image hidden)
    image_size: float     # side of an image in the t-SNE state, grid cells
    metrics: dict

    def contract_entry(self) -> dict:
        """The layout as build_layout takes it (layoutfile contract)."""
        return {"label": self.label, "tsne": self.tsne, "grid": self.grid, "metrics": self.metrics,
                "tsne_display": self.display, "tsne_image_size": self.image_size}


def compute_layouts(features: dict[str, np.ndarray], colours: np.ndarray, labels: list[str] | None, cols: int,
                    rows: int, options: BuildOptions, init: dict[str, np.ndarray] | None,
                    stage: Stage) -> dict[str, Layout]:
    """Blur and combined layouts of `features` on a cols × rows grid; `init` continues saved t-SNE positions;
    `labels` (a category per image, or None) are only measured.

    Each step runs inside `stage(name)`: tsne:<layout>, grid:<layout>, spread:<layout>, metrics:<layout>.
    """
    layouts: dict[str, Layout] = {}
    for name in LAYOUTS:   # blur first: combined is rotated/reflected onto it
        with stage(f"tsne:{name}"):
            xy = reduce_to_2d(features[name], perplexity=options.perplexity, seed=options.seed,
                              pca_dims=options.pca_dims, standardise=False, progress=options.progress,
                              init=None if init is None else init[name])
            if name == "combined":
                xy = procrustes_align(xy, layouts["blur"].xy)
            tsne = normalise_unit(xy)
        with stage(f"grid:{name}"):
            grid = assign_grid(tsne, cols, rows, method=options.grid)
        with stage(f"spread:{name}"):
            spread = spread_layout(tsne, cols, rows)
        with stage(f"metrics:{name}"):
            metrics = layout_metrics(features[name], colours, grid, tsne, labels) | spread.metrics
        layouts[name] = Layout(LABELS[name], xy, tsne, grid, spread.positions, spread.size, metrics)
    return layouts
