"""The in-memory core: features and a recipe → layouts, with no files involved.

`lay_out(features, recipe, params)` makes, for every layout of the recipe in order: its feature matrix
(embed/core/combine.py), PCA → openTSNE, the map turned so that its longest spread lies along the grid's long
side, whichever way round matches the layout before it (embed/core/reduce.py `principal_fit`: the grid stretches
less, and stepping through the layouts never flips the picture), the grid, the t-SNE state's display positions
(embed/core/spread.py) and the metrics. A dial recipe (embed/core/recipe.py `dial`) first gets its stops spaced so
that each step changes the picture about equally (embed/core/stops.py).

Given a kept map (embed/build/positions.py, the build's saved state), it continues it instead: old images keep
their positions and (mostly) their cells, new ones are placed into the map (embed/core/place.py) and fitted
into the grid (embed/core/repair.py), and the quadratic metrics use smaller samples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace

import numpy as np

from embed.core.colour_sort import polish_in_feature_space
from embed.core.combine import recipe_matrix
from embed.core.stops import neighbourhood_change, spaced_positions
from embed.core.featureset import FeatureSet
from embed.core.grid import assign_grid, fit_to_grid, grid_shape
from embed.core.holes import interior_holes
from embed.core.metrics import layout_metrics
from embed.options import LayoutParams
from embed.core.place import place_new_points
from embed.core.maps import KeptMap, MapLayout
from embed.core.recipe import Ingredient, LayoutRecipe, Recipe, default_recipe, dial
from embed.core.reduce import Projection, normalise_unit, principal_fit, tsne_2d
from embed.core.repair import keeps_grid, repair_grid
from embed.core.spread import spread_layout
from layoutfile import UserError

INCREMENTAL_DPQ_POINTS = 1000     # metric samples of an incremental run (a cold run: metrics' defaults)
INCREMENTAL_KNN_QUERIES = 250
MATRIX_RECIPE = Recipe((LayoutRecipe("features", "Features", (Ingredient("network"),)),), name="matrix")

Stage = Callable[[str], AbstractContextManager]   # stage("tsne:blur") times (or otherwise watches) a stage


@dataclass
class Layout:
    """One laid-out layout: its recipe, its map (kept for the next run: raw t-SNE, grid cells, ...),
    normalised t-SNE positions, the t-SNE state's display positions and image side, and metrics."""

    recipe: LayoutRecipe
    map: MapLayout
    tsne: np.ndarray      # (N, 2) in [0, 1]², aspect kept
    display: np.ndarray   # (N, 2) in [0, 1]²: where the t-SNE state draws the images (no image hidden)
    image_size: float     # side of an image in the t-SNE state, grid cells
    metrics: dict

    @property
    def name(self) -> str:
        return self.recipe.name

    @property
    def grid(self) -> np.ndarray:
        """(N, 2) int (col, row) of every image."""
        return self.map.grid

    def contract_entry(self) -> dict:
        """The layout as layoutfile.build_layout takes it."""
        return {"label": self.recipe.label, "recipe": self.recipe.describe(), "tsne": self.tsne,
                "grid": self.map.grid, "metrics": self.metrics, "tsne_display": self.display,
                "tsne_image_size": self.image_size}


@dataclass
class LayoutSet:
    """The layouts of one recipe over the same images, in order, on one cols × rows grid."""

    layouts: dict[str, Layout]
    cols: int
    rows: int
    recipe: Recipe

    def __getitem__(self, name: str) -> Layout:
        return self.layouts[name]

    def __iter__(self) -> Iterator[Layout]:
        return iter(self.layouts.values())

    def __len__(self) -> int:
        return len(self.layouts)

    @property
    def names(self) -> list[str]:
        return list(self.layouts)


def lay_out(features: FeatureSet | np.ndarray, recipe: Recipe | None = None, params: LayoutParams = LayoutParams(),
            *, kept: KeptMap | None = None, stage: Stage = lambda name: nullcontext()) -> LayoutSet:
    """Every layout of `recipe` (default: blur and combined; for a plain (N, D) matrix: one layout of it).

    `kept` continues a saved map (None: from scratch); `stage(name)` wraps each step (tsne:<layout>,
    grid:<layout>, spread:<layout>, metrics:<layout>), e.g. to time it. The same features, recipe, params and
    kept map give the same layouts.
    """
    if isinstance(features, np.ndarray):
        features = FeatureSet.from_matrix(features)
        recipe = recipe or MATRIX_RECIPE
    recipe = recipe or default_recipe()
    missing = features.missing(recipe)
    if missing:
        raise UserError(f"recipe {recipe.name!r} needs {', '.join(missing)}; extract them first "
                        "(embed.api.extract_features with this recipe)")
    if recipe.dial_stops:
        recipe = _spaced(recipe, features, params.seed, kept)
    n = len(features)
    fresh_grid = kept is None or not keeps_grid(kept.cols, kept.grid_rows, n, params.aspect)
    shape = grid_shape(n, params.aspect) if fresh_grid else (kept.cols, kept.grid_rows)
    samples = {} if kept is None else {"max_points": INCREMENTAL_DPQ_POINTS, "max_queries": INCREMENTAL_KNN_QUERIES}
    layouts: dict[str, Layout] = {}
    previous: Layout | None = None
    for index, layout_recipe in enumerate(recipe.layouts):
        name = layout_recipe.name
        matrix = recipe_matrix(layout_recipe, features)
        perplexity = layout_recipe.perplexity or params.perplexity
        with stage(f"tsne:{name}"):
            if kept is None:
                layout = _fresh_map(matrix, perplexity, params, None if previous is None else previous.map)
            else:
                layout = _continued_map(matrix, perplexity, params.seed, kept, kept.layouts[name])
            tsne = normalise_unit(layout.aligned(), within=layout.box)
        with stage(f"grid:{name}"):
            if fresh_grid:
                layout.grid = assign_grid(tsne, *shape, method=params.grid)
                if layout_recipe.colour_polish:   # cold grids only: old images keep their cells
                    layout.grid = polish_in_feature_space(layout.grid, features.colours, *shape,
                                                          radius=layout_recipe.colour_polish * max(shape))
            else:
                layout.grid, grown = _repaired_grid(tsne, layout, kept, params.aspect)
                if previous is None:
                    shape = grown
                elif grown != shape:   # the growth depends on n, the old shape and the aspect only
                    raise AssertionError(f"layouts grew to different grids: {grown} vs {shape}")
        with stage(f"spread:{name}"):
            spread = spread_layout(tsne, *shape)
        with stage(f"metrics:{name}"):
            metrics = layout_metrics(matrix, features.colours, layout.grid, tsne, features.labels, **samples)
            metrics |= spread.metrics | {"interior_holes": interior_holes(layout.grid, *shape)}
            if recipe.dial_positions:
                metrics["dial_position"] = recipe.dial_positions[index]
            if previous is not None:
                metrics["change_from_previous"] = neighbourhood_change(previous.tsne, tsne, seed=params.seed)
        layouts[name] = previous = Layout(layout_recipe, layout, tsne, spread.positions, spread.size, metrics)
    return LayoutSet(layouts, *shape, recipe)


def _spaced(recipe: Recipe, features: FeatureSet, seed: int, kept: KeptMap | None) -> Recipe:
    """A dial recipe with its stops where each step changes the picture about equally (embed/core/stops.py), or
    where the kept map's run put them (an incremental run keeps its layouts' recipes)."""
    if kept is not None and kept.dial_positions is not None and len(kept.dial_positions) == recipe.dial_stops:
        positions = [float(p) for p in kept.dial_positions]
    else:
        first, last = recipe.layouts[0], recipe.layouts[-1]
        positions = spaced_positions(recipe_matrix(first, features), recipe_matrix(last, features),
                                     recipe.dial_stops, seed=seed)
    ends = replace(recipe, layouts=(recipe.layouts[0], recipe.layouts[-1]))
    return replace(dial(recipe.dial_stops, ends, positions), name=recipe.name)


def _fresh_map(features: np.ndarray, perplexity: float, params: LayoutParams,
               align_to: MapLayout | None) -> MapLayout:
    """A new t-SNE map of `features` (grid still to assign), aligned onto `align_to` if given."""
    projection = Projection.fit(features, pca_dims=params.pca_dims, seed=params.seed)
    xy = tsne_2d(projection.apply(features), perplexity=perplexity, seed=params.seed, progress=params.progress)
    matrix, offset = principal_fit(xy, None if align_to is None else align_to.aligned(),
                                   long_axis=0 if params.aspect >= 1 else 1)
    aligned = xy @ matrix + offset
    return MapLayout(xy, np.empty((0, 2), dtype=np.int64), projection, matrix, offset,
                     np.stack([aligned.min(axis=0), aligned.max(axis=0)]))


def _continued_map(features: np.ndarray, perplexity: float, seed: int, kept: KeptMap,
                   saved: MapLayout) -> MapLayout:
    """The saved map with its removed images dropped and the new ones placed into it."""
    x = saved.projection.apply(features)
    old = ~kept.new
    xy = np.empty((len(x), 2))
    xy[old] = saved.xy[kept.rows[old]]
    perplexity = min(perplexity, (old.sum() - 1) / 3)
    xy[kept.new] = place_new_points(x[old], xy[old], x[kept.new], perplexity=perplexity, seed=seed)
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
