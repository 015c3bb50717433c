"""New images into a kept t-SNE map: the map stays fixed and only the new points move.

openTSNE's `TSNEEmbedding.transform` does this, but it needs the map's affinity object (its Annoy index
and P matrix, which a bare array of positions cannot give back) and re-centres the map in place. So the
same procedure is built here from openTSNE's parts, against positions and rows kept between runs: exact
neighbours of each new row among the map's rows (BLAS, chunked), point-wise perplexity affinities to the
map only, a start at the median position of the nearest map points, then gradient steps for the new
points against the fixed map. Its cost grows with the number of new images (plus one pass over the map
for the FFT grid): 200 new in a 20k map take ~2 s, where re-running t-SNE from saved positions took 93 s.
Settings (tuned on synthetic lab features at 20k, docs/benchmarks.md "Incremental"): perplexity 30 as
the map, learning rate 1 without exaggeration, 250 iterations, median of 10 neighbours as the start.
"""

from __future__ import annotations

import numpy as np
import openTSNE
import scipy.sparse as sp
from openTSNE.affinity import joint_probabilities_nn

from embed.core.reduce import gradient_method

PLACE_ITER = 250
PLACE_LEARNING_RATE = 1.0   # openTSNE's transform uses 0.1 (a worse fit here); 10 diverges
START_NEIGHBOURS = 10       # a new point starts at the median position of this many nearest map points
_QUERY_CHUNK = 2048


def nearest_rows(reference: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of each query row's k nearest reference rows, nearest first."""
    ref = np.ascontiguousarray(reference, dtype=np.float32)
    ref_sq = np.einsum("ij,ij->i", ref, ref)
    k = min(k, len(ref))
    index = np.empty((len(queries), k), dtype=np.int64)
    distance = np.empty((len(queries), k), dtype=np.float64)
    for start in range(0, len(queries), _QUERY_CHUNK):
        q = np.ascontiguousarray(queries[start:start + _QUERY_CHUNK], dtype=np.float32)
        d2 = ref_sq[None, :] - 2.0 * (q @ ref.T) + np.einsum("ij,ij->i", q, q)[:, None]
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        part_d2 = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(part_d2, axis=1, kind="stable")
        index[start:start + _QUERY_CHUNK] = np.take_along_axis(part, order, axis=1)
        distance[start:start + _QUERY_CHUNK] = np.sqrt(np.maximum(np.take_along_axis(part_d2, order, axis=1), 0))
    return index, distance


class _NoAffinities:
    """The map's affinities as openTSNE's classes expect them: never read while only new points move."""

    def __init__(self, n: int):
        self.P = sp.csr_matrix((n, n))


def place_new_points(map_x: np.ndarray, map_xy: np.ndarray, new_x: np.ndarray, *, perplexity: float = 30,
                     seed: int = 0, n_jobs: int = -1) -> np.ndarray:
    """(M, 2) positions of new t-SNE input rows `new_x` in the map `map_xy` (N, 2) of rows `map_x` (N, d),
    which does not move (module docstring)."""
    if len(new_x) == 0:
        return np.empty((0, 2))
    n = len(map_x)
    k = min(n, max(int(3 * perplexity), START_NEIGHBOURS))
    neighbours, distances = nearest_rows(map_x, new_x, k)
    affinities = joint_probabilities_nn(neighbours, distances, [min(perplexity, k / 3)], symmetrize=False,
                                        normalization="point-wise", n_reference_samples=n, n_jobs=n_jobs)
    map_xy = np.asarray(map_xy, dtype=np.float64)
    centre = (map_xy.max(axis=0) + map_xy.min(axis=0)) / 2   # openTSNE expects a centred map
    reference = openTSNE.TSNEEmbedding(map_xy - centre, _NoAffinities(n), negative_gradient_method=gradient_method(n),
                                       n_jobs=n_jobs, random_state=seed)
    start = np.median(reference[neighbours[:, :START_NEIGHBOURS]], axis=1)
    placed = openTSNE.PartialTSNEEmbedding(start, reference, affinities, **reference.gradient_descent_params)
    placed = placed.optimize(n_iter=PLACE_ITER, learning_rate=PLACE_LEARNING_RATE, exaggeration=1.0, momentum=0.8,
                             max_grad_norm=0.25, inplace=True)
    return np.asarray(placed, dtype=np.float64) + centre
