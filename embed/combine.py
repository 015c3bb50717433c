"""Turn a build's features into the two layouts' feature matrices, as `embed.options.RECIPE` says.

Every block is centred and scaled so that its summed column variance equals its weight: without this, a
block's influence would depend on how many dimensions it has and on the scale of its values. Columns are
not z-scored one by one: colour blocks keep Lab units (so distances stay ΔE), and a network's features
keep their own geometry after their rows are scaled to unit length (which groups objects better than
z-scoring, docs/features.md).

- blur layout: the colour blocks of every blur level, equal shares → colour and coarse composition.
- combined layout: the features of the original (weight 1) plus the same colour blocks at a small total
  weight: what the object is decides, colour orders similar objects among themselves.
"""

from __future__ import annotations

import numpy as np

from embed.options import RECIPE


def scaled_block(block: np.ndarray, weight: float, unit_rows: bool = False) -> np.ndarray:
    """`block` (rows first scaled to unit length if `unit_rows`) centred and scaled so that its summed column
    variance equals `weight`; a constant block stays all zeros."""
    x = np.asarray(block, dtype=np.float32)
    if unit_rows:
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), np.float32(1e-12))
    x = x - x.mean(axis=0, keepdims=True)
    total = float(x.var(axis=0).sum())
    return x * np.float32(np.sqrt(weight / total)) if total > 0 else x


def split_blocks(colour_blocks: dict[float, np.ndarray]) -> list[np.ndarray]:
    """Each blur level's colour row split into its Lab grids (RECIPE.colour_grids), level by level."""
    sizes = np.cumsum([3 * g * g for g in RECIPE.colour_grids])[:-1]
    return [part for r in sorted(colour_blocks) for part in np.split(colour_blocks[r], sizes, axis=1)]


def layout_features(features: np.ndarray, colour_blocks: dict[float, np.ndarray], kind: str) -> dict[str, np.ndarray]:
    """{'blur': …, 'combined': …} feature matrices from the features of the original (of feature `kind`)
    and the colour blocks of each blur level."""
    colour = split_blocks(colour_blocks)
    share = 1.0 / len(colour)
    objects = scaled_block(features, 1.0, unit_rows=kind in RECIPE.unit_rows_kinds)
    return {
        "blur": np.concatenate([scaled_block(b, share) for b in colour], axis=1),
        "combined": np.concatenate([objects] + [scaled_block(b, share * RECIPE.combined_colour_weight)
                                                for b in colour], axis=1),
    }
