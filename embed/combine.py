"""Turn per-blur-level CNN features into the two layouts' feature matrices.

Each level's block is standardised (zero mean, unit variance per dimension) and scaled so that the
block's total variance equals its weight. Without this, a block's influence would depend on how many
dimensions it has and on the scale of its activations.

- blur layout: the heavily blurred levels only, equal weights → colour and coarse composition.
- combined layout: the original (weight 1) plus every blur level (weights summing to 1): the original
  decides what the object is, the blurred copies keep colour and layout as a tie-breaker, so similar
  objects sit together and, among them, similar colours.
"""

from __future__ import annotations

import numpy as np

from layoutfile import UserError


def standardised_block(block: np.ndarray, weight: float) -> np.ndarray:
    """Z-score each column, then scale the block so that its summed variance equals `weight`."""
    block = np.asarray(block, dtype=np.float32)
    centred = block - block.mean(axis=0, keepdims=True)
    std = centred.std(axis=0, keepdims=True)
    z = centred / np.where(std > 1e-12, std, 1.0)
    dims = max(int((std > 1e-12).sum()), 1)
    return z * np.float32(np.sqrt(weight / dims))


def combine_blocks(blocks: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Concatenate standardised, weighted blocks (all with the same number of rows)."""
    if len(blocks) != len(weights) or not blocks:
        raise ValueError("need one weight per block and at least one block")
    return np.concatenate([standardised_block(b, w) for b, w in zip(blocks, weights)], axis=1)


def blur_layout_levels(levels: list[float], chosen: list[float] | None) -> list[float]:
    """Levels used by the blur layout: `chosen` if given, else those >= 8, else the largest."""
    if chosen:
        missing = [r for r in chosen if r not in levels]
        if missing:
            raise UserError(f"--blur-layout levels {missing} are not among --blur {levels}")
        return sorted(chosen)
    heavy = [r for r in levels if r >= 8]
    return heavy or [max(levels)]


def layout_features(features: dict[float, np.ndarray], blur_levels: list[float]) -> dict[str, np.ndarray]:
    """{'blur': …, 'combined': …} feature matrices from per-level features (level 0 = original)."""
    blurred = [r for r in sorted(features) if r > 0]
    out = {"blur": combine_blocks([features[r] for r in blur_levels], [1.0 / len(blur_levels)] * len(blur_levels))}
    if 0 in features and blurred:
        weights = [1.0] + [1.0 / len(blurred)] * len(blurred)
        out["combined"] = combine_blocks([features[0]] + [features[r] for r in blurred], weights)
    else:
        out["combined"] = combine_blocks([features[r] for r in sorted(features)], [1.0] * len(features))
    return out
