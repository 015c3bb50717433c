"""A layout's feature matrix from its recipe (embed/core/recipe.py): each ingredient's block, weighted, side by side.

Every block is centred and scaled so that its summed column variance equals its weight: without this, a
block's influence would depend on how many dimensions it has and on the scale of its values. Columns are
not z-scored one by one: colour blocks keep Lab units (so distances stay ΔE), and a network's features
keep their own geometry after their rows are scaled to unit length (which groups objects better than
z-scoring, docs/features.md). Because the blocks are independent, the squared distance between two images
in a mix of two recipes is the same mix of their squared distances in each (embed/core/stops.py uses this).
"""

from __future__ import annotations

import numpy as np

from embed.core.featureset import FeatureSet
from embed.core.recipe import LayoutRecipe


def scaled_block(block: np.ndarray, weight: float, unit_rows: bool = False) -> np.ndarray:
    """`block` (rows first scaled to unit length if `unit_rows`) centred and scaled so that its summed column
    variance equals `weight`; a constant block stays all zeros."""
    x = np.asarray(block, dtype=np.float32)
    if unit_rows:
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), np.float32(1e-12))
    x = x - x.mean(axis=0, keepdims=True)
    total = float(x.var(axis=0).sum())
    return x * np.float32(np.sqrt(weight / total)) if total > 0 else x


def recipe_matrix(layout: LayoutRecipe, features: FeatureSet) -> np.ndarray:
    """(N, Σ d) float32: the layout's ingredients, each scaled to its weight, in the recipe's order."""
    return np.concatenate([scaled_block(features.block(i), i.weight, features.unit_rows(i))
                           for i in layout.ingredients if i.weight > 0], axis=1)
