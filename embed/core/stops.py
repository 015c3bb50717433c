"""The colour ⇄ objects dial: where its stops go, so that each step changes the picture about equally.

A dial mixes the ingredients of its two ends (embed.core.recipe.mix): at position p every ingredient weighs
(1 − p) · its weight at the colour end + p · its weight at the object end. The blocks are scaled
independently (embed/core/combine.py), so the squared distance between two images at p is exactly
(1 − p) · d²_colour + p · d²_objects. Evenly spaced p need not change the picture evenly: where one end's
distances are much larger or more structured than the other's, most neighbourhoods turn over in a short
stretch of p.

The measure of change between two positions is the share of each image's 10 nearest neighbours (in the
mixed feature space, among a fixed sample of images) that differ: t-SNE keeps those neighbourhoods, so it
is what the picture shows (docs/features.md, "The dial"). `spaced_positions` tries positions from 0 to 1
and finds, by bisection on the step size, stops whose every step — from one stop to the next, measured
directly — changes the neighbourhoods by the same share.
"""

from __future__ import annotations

import numpy as np

from embed.core.metrics import sample_indices, squared_distances

NEIGHBOURS = 10        # k of the neighbourhoods compared
SAMPLE = 1500          # images the neighbourhoods are measured on (fixed seed)
STEPS = 96             # positions tried between the ends, geometrically spaced (change is fastest near 0)
MIN_POSITION = 1e-3    # the smallest position tried above 0
BISECTIONS = 24        # halvings of the step size


def spaced_positions(colour_end: np.ndarray, object_end: np.ndarray, stops: int, *, seed: int = 0,
                     sample: int = SAMPLE, steps: int = STEPS, k: int = NEIGHBOURS) -> list[float]:
    """`stops` mixing positions from 0 to 1 between two feature matrices of the same images (rows alike),
    each step changing the neighbourhoods about equally (module docstring)."""
    n = len(colour_end)
    if stops < 2:
        raise ValueError("a dial has at least two stops")
    pick = sample_indices(n, sample, seed)
    k = min(k, len(pick) - 1)
    if k < 1 or stops == 2:
        return list(np.linspace(0.0, 1.0, stops))
    far, near = _pair_distances(colour_end[pick]), _pair_distances(object_end[pick])
    walk = np.concatenate([[0.0], np.geomspace(MIN_POSITION, 1.0, steps)])
    hoods = [_neighbourhoods((1 - p) * far + p * near, k) for p in walk]
    low, high = 0.0, 1.0
    for _ in range(BISECTIONS):   # the step size whose walk lands on the object end in stops - 1 equal steps
        step = (low + high) / 2
        path = _equal_steps(hoods, step, stops - 2)
        if len(path) < stops - 2 or turnover(hoods[path[-1]], hoods[-1]) > step:
            (low, high) = (low, step) if len(path) < stops - 2 else (step, high)
        else:
            high = step
    path = _equal_steps(hoods, low, stops - 2)
    if len(path) < stops - 2:   # neighbourhoods too coarse for this many stops: fall back to even shares
        return list(np.linspace(0.0, 1.0, stops))
    return [0.0, *(float(walk[i]) for i in path), 1.0]


def _equal_steps(hoods: list[np.ndarray], step: float, count: int) -> list[int]:
    """Up to `count` walk indices, each the first after the one before whose neighbourhoods have turned over
    by `step` (from index 0); fewer when the walk ends first."""
    path, here = [], 0
    while len(path) < count:
        nxt = next((j for j in range(here + 1, len(hoods) - 1) if turnover(hoods[here], hoods[j]) >= step), None)
        if nxt is None:
            break
        path.append(nxt)
        here = nxt
    return path


def turnover(a: np.ndarray, b: np.ndarray) -> float:
    """Mean share of each row's neighbours (index rows of equal width) in `a` that are not in `b`."""
    k = a.shape[1]
    common = (a[:, :, None] == b[:, None, :]).any(axis=2).sum(axis=1)
    return float(1.0 - common.mean() / k)


def neighbourhood_change(a: np.ndarray, b: np.ndarray, *, k: int = NEIGHBOURS, sample: int = SAMPLE,
                         seed: int = 0) -> float:
    """How much two arrangements of the same images differ: the mean share of each image's k nearest
    neighbours (among a fixed sample) in `a` that are not among its k nearest in `b` (0 = same
    neighbourhoods, about 1 = unrelated). Used on t-SNE maps to report each dial step's change."""
    pick = sample_indices(len(a), sample, seed)
    k = min(k, len(pick) - 1)
    if k < 1:
        return 0.0
    return turnover(_neighbourhoods(_pair_distances(np.asarray(a)[pick]), k),
                    _neighbourhoods(_pair_distances(np.asarray(b)[pick]), k))


def _pair_distances(x: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between all rows of `x` (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return squared_distances(x, x, np.einsum("ij,ij->i", x, x))


def _neighbourhoods(d: np.ndarray, k: int) -> np.ndarray:
    """Each row's k nearest other rows (by the square distance matrix `d`), as an (n, k) index array."""
    d = d.copy()
    np.fill_diagonal(d, np.inf)
    return np.argpartition(d, k - 1, axis=1)[:, :k]
