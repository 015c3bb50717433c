"""The two layouts of a build: t-SNE of each feature matrix (combined aligned onto blur), snapped to the grid,
spread for display (embed/spread.py), measured. From scratch, or continuing a kept map (embed/positions.py): then old images keep their positions
and (mostly) their cells, new ones are placed into the map (embed/place.py) and fitted into the grid
(embed/repair.py), and the quadratic metrics use smaller samples."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

from embed.colour_sort import polish_in_feature_space
from embed.grid import assign_grid, fit_to_grid, grid_shape
from embed.holes import interior_holes
from embed.metrics import layout_metrics
from embed.options import RECIPE, BuildOptions
from embed.place import place_new_points
from embed.positions import KeptMap, MapLayout
from embed.reduce import Projection, normalise_unit, procrustes_fit, tsne_2d
from embed.repair import keeps_grid, repair_grid
from embed.spread import spread_layout
from layoutfile import LAYOUTS

LABELS = {"blur": "Blur only", "combined": "Original + blur"}
COLOUR_POLISHED = ("blur",)   # layouts whose cold grid FLAS polishes by mean colour (embed/colour_sort.py)
INCREMENTAL_DPQ_POINTS = 1000     # metric samples of an incremental run (a cold run: metrics' defaults)
INCREMENTAL_KNN_QUERIES = 250

Stage = Callable[[str], AbstractContextManager]   # stage("tsne:blur") times (or otherwise watches) a stage


@dataclass
class Layout:
    """One layout: its map (kept for the next run: raw t-SNE, grid cells, ...), normalised t-SNE positions,
    the t-SNE state's display positions and image side, and metrics."""

    label: str
    map: MapLayout
    tsne: np.ndarray      # (N, 2) in [0, 1]², aspect kept
    display: np.ndarray   # (N, 2) in [0, 1]²: where the t-SNE state draws the images (no image hidden)
    image_size: float     # side of an image in the t-SNE state, grid cells
    metrics: dict

    def contract_entry(self) -> dict:
        """The layout as build_layout takes it (layoutfile contract)."""
        return {"label": self.label, "tsne": self.tsne, "grid": self.map.grid, "metrics": self.metrics,
                "tsne_display": self.display, "tsne_image_size": self.image_size}


def compute_layouts(features: dict[str, np.ndarray], colours: np.ndarray, labels: list[str] | None,
                    options: BuildOptions, kept: KeptMap | None,
                    stage: Stage) -> tuple[dict[str, Layout], tuple[int, int]]:
    """Blur and combined layouts of `features` and their shared grid shape (cols, rows); `kept` continues
    a saved map (None: from scratch); `labels` (a category per image, or None) are only measured.

    Each step runs inside `stage(name)`: tsne:<layout>, grid:<layout>, spread:<layout>, metrics:<layout>.
    """
    n = len(colours)
    fresh_grid = kept is None or not keeps_grid(kept.cols, kept.grid_rows, n, options.aspect)
    shape = grid_shape(n, options.aspect) if fresh_grid else (kept.cols, kept.grid_rows)
    samples = {} if kept is None else {"max_points": INCREMENTAL_DPQ_POINTS, "max_queries": INCREMENTAL_KNN_QUERIES}
    layouts: dict[str, Layout] = {}
    for name in LAYOUTS:   # blur first: combined is rotated/reflected onto it
        with stage(f"tsne:{name}"):
            if kept is None:
                layout = _fresh_map(features[name], options, None if name == "blur" else layouts["blur"].map)
            else:
                layout = _continued_map(features[name], options, kept, kept.layouts[name])
            tsne = normalise_unit(layout.aligned(), within=layout.box)
        with stage(f"grid:{name}"):
            if fresh_grid:
                layout.grid = assign_grid(tsne, *shape, method=options.grid)
                if name in COLOUR_POLISHED:
                    layout.grid = polish_in_feature_space(layout.grid, colours, *shape,
                                                          radius=RECIPE.colour_polish * max(shape))
            else:
                layout.grid, grown = _repaired_grid(tsne, layout, kept, options.aspect)
                if name == "blur":
                    shape = grown
                elif grown != shape:   # the growth depends on n, the old shape and the aspect only
                    raise AssertionError(f"layouts grew to different grids: {grown} vs {shape}")
        with stage(f"spread:{name}"):
            spread = spread_layout(tsne, *shape)
        with stage(f"metrics:{name}"):
            metrics = (layout_metrics(features[name], colours, layout.grid, tsne, labels, **samples) | spread.metrics
                       | {"interior_holes": interior_holes(layout.grid, *shape)})
        layouts[name] = Layout(LABELS[name], layout, tsne, spread.positions, spread.size, metrics)
    return layouts, shape


def _fresh_map(features: np.ndarray, options: BuildOptions, align_to: MapLayout | None) -> MapLayout:
    """A new t-SNE map of `features` (grid still to assign), aligned onto `align_to` if given."""
    projection = Projection.fit(features, pca_dims=options.pca_dims, seed=options.seed)
    xy = tsne_2d(projection.apply(features), perplexity=options.perplexity, seed=options.seed,
                 progress=options.progress)
    matrix, offset = (np.eye(2), np.zeros(2)) if align_to is None else procrustes_fit(xy, align_to.aligned())
    aligned = xy @ matrix + offset
    return MapLayout(xy, np.empty((0, 2), dtype=np.int64), projection, matrix, offset,
                     np.stack([aligned.min(axis=0), aligned.max(axis=0)]))


def _continued_map(features: np.ndarray, options: BuildOptions, kept: KeptMap, saved: MapLayout) -> MapLayout:
    """The saved map with its removed images dropped and the new ones placed into it."""
    x = saved.projection.apply(features)
    old = ~kept.new
    xy = np.empty((len(x), 2))
    xy[old] = saved.xy[kept.rows[old]]
    perplexity = min(options.perplexity, (old.sum() - 1) / 3)
    xy[kept.new] = place_new_points(x[old], xy[old], x[kept.new], perplexity=perplexity, seed=options.seed)
    return MapLayout(xy, saved.grid, saved.projection, saved.matrix, saved.offset, saved.box)


def _repaired_grid(tsne: np.ndarray, layout: MapLayout, kept: KeptMap,
                   aspect: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Cells of every image on the kept grid (grown if need be) and the grid's shape."""
    old = ~kept.new
    corners = normalise_unit(layout.box, within=layout.box)
    targets = fit_to_grid(tsne[kept.new], kept.cols, kept.grid_rows, within=corners)
    repair = repair_grid(layout.grid[kept.rows[old]], targets, kept.cols, kept.grid_rows, aspect)
    cells = np.empty((len(tsne), 2), dtype=np.int64)
    cells[old], cells[kept.new] = repair.cells[:old.sum()], repair.cells[old.sum():]
    return cells, (repair.cols, repair.rows)
