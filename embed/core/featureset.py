"""The in-memory core's input: per-image features that recipes draw their ingredients from (embed/core/recipe.py).

A `FeatureSet` holds, for N images, the network's features of each blur level and the colour blocks of each
blur level, plus what layouts are measured by (mean Lab colours, labels). The build fills one from its
cache (embed/build/extract.py); a notebook can make one from its own arrays (`FeatureSet.from_matrix`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from embed.options import COLOUR_BLOCKS, UNIT_ROW_KINDS
from embed.core.recipe import Ingredient, Recipe


@dataclass
class FeatureSet:
    """Features of N images, in one order (arrays may be memory-mapped: nothing is copied until laid out)."""

    network: dict[float, np.ndarray]                 # blur level → (N, D) network features (0: the original)
    colour_blocks: dict[float, np.ndarray] = field(default_factory=dict)   # level → (N, COLOUR_BLOCKS.dims) Lab
    colours: np.ndarray | None = None                # (N, 3) mean CIELAB colour per image (colour metrics)
    labels: list[str] | None = None                  # a category per image (category metrics only)
    network_kind: str = "cnn"                        # "cnn" rows are scaled to unit length; "lab" (or other) kept

    def __post_init__(self) -> None:
        sizes = {len(a) for a in (*self.network.values(), *self.colour_blocks.values())}
        sizes |= {len(self.colours)} if self.colours is not None else set()
        sizes |= {len(self.labels)} if self.labels is not None else set()
        if len(sizes) != 1:
            raise ValueError(f"every array needs one row per image; got row counts {sorted(sizes)}")

    def __len__(self) -> int:
        return len(next(iter((*self.network.values(), *self.colour_blocks.values()))))

    @classmethod
    def from_matrix(cls, features: np.ndarray, colours: np.ndarray | None = None,
                    labels: list[str] | None = None, unit_rows: bool = False) -> FeatureSet:
        """A feature matrix of your own (N, D) as the `network` ingredient at blur 0 (`unit_rows`: its rows are
        scaled to unit length before weighting, as for a network's features)."""
        return cls({0.0: np.asarray(features)}, {}, colours, labels, "cnn" if unit_rows else "matrix")

    def block(self, ingredient: Ingredient) -> np.ndarray:
        """The raw (N, d) features of one ingredient; KeyError naming what is missing."""
        if ingredient.kind == "network":
            if ingredient.blur not in self.network:
                raise KeyError(f"no network features of blur level {ingredient.blur:g} (have "
                               f"{sorted(self.network)})")
            return self.network[ingredient.blur]
        if ingredient.blur not in self.colour_blocks:
            raise KeyError(f"no colour blocks of blur level {ingredient.blur:g} (have {sorted(self.colour_blocks)})")
        start = sum(3 * g * g for g in COLOUR_BLOCKS.grids[:COLOUR_BLOCKS.grids.index(ingredient.grid)])
        return self.colour_blocks[ingredient.blur][:, start:start + 3 * ingredient.grid ** 2]

    def unit_rows(self, ingredient: Ingredient) -> bool:
        """Whether an ingredient's rows are scaled to unit length before weighting (a CNN's features)."""
        return ingredient.kind == "network" and self.network_kind in UNIT_ROW_KINDS

    def missing(self, recipe: Recipe) -> list[str]:
        """What `recipe` needs that this set lacks, in words (empty when it can be laid out)."""
        need = {(i.kind, i.blur) for layout in recipe.layouts for i in layout.ingredients}
        have = {("network", b) for b in self.network} | {("colour", b) for b in self.colour_blocks}
        return [f"{kind} features of blur level {blur:g}" for kind, blur in sorted(need - have)]
