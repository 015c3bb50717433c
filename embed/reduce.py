"""Feature vectors → 2-D: standardise, PCA, openTSNE; plus normalising and aligning 2-D layouts."""

from __future__ import annotations

import logging

import numpy as np
import openTSNE
from scipy.linalg import orthogonal_procrustes
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from tqdm import tqdm

MIN_TSNE_POINTS = 5  # fewer points than this are laid out by PCA alone
FFT_MIN_POINTS = 10_000  # Barnes-Hut gradients are faster below (300 points: 1 s vs 8 s)
_PROGRESS_EVERY = 10  # iterations between progress-bar updates
_EARLY_ITER, _MAIN_ITER = 250, 500  # openTSNE's defaults, spelled out for the progress bar
REFINE_ITER = 150  # iterations from a given `init` (no early exaggeration): quality as 200–300, see docs/benchmarks.md
PLACE_NEIGHBOURS = 5  # a new point starts at the mean position of this many nearest placed points


def reduce_to_2d(
    features: np.ndarray,
    *,
    perplexity: float = 30,
    seed: int = 0,
    pca_dims: int = 50,
    n_jobs: int = -1,
    standardise: bool = True,
    progress: bool = True,
    init: np.ndarray | None = None,
) -> np.ndarray:
    """(N, D) features → (N, 2) t-SNE coordinates; the same input and seed give the same output.

    Columns are standardised, reduced by PCA to `pca_dims` and embedded by openTSNE with PCA
    initialisation and a fixed seed; gradients are FFT-accelerated from FFT_MIN_POINTS points (Barnes-Hut
    below), neighbours exact below 1,000 points and approximate (Annoy) above. `n_jobs=-1` uses every
    core. Perplexity is capped at (N - 1) / 3 for small N; below MIN_TSNE_POINTS points the first two
    principal components are returned instead (all zeros when every row is the same).
    `standardise=False` keeps the columns' scales (for features already weighted block by block,
    see embed/combine.py); they are still centred.
    """
    x = np.array(features, dtype=np.float32)  # one working copy: 100k × 2048 is 0.8 GB
    if x.ndim != 2 or len(x) == 0 or not np.isfinite(x).all():
        raise ValueError(f"features must be a finite, non-empty (N, D) array, got shape {x.shape}")
    n = len(x)
    std = x.std(axis=0)
    x -= x.mean(axis=0)
    if standardise:
        x /= np.where(std > 0, std, 1.0)
    if n < MIN_TSNE_POINTS or not x.any():
        return _principal_plane(x.astype(np.float64))
    dims = min(pca_dims, n, x.shape[1])
    if dims < x.shape[1]:
        x = PCA(n_components=dims, random_state=seed).fit_transform(x)
    x = x.astype(np.float64)
    if init is not None:
        init = place_new_points(x, init)
    early, main = (_EARLY_ITER, _MAIN_ITER) if init is None else (0, REFINE_ITER)
    with tqdm(total=early + main, desc="t-SNE", unit="it", disable=not progress) as bar:

        def advance(iteration: int, error: float, embedding: np.ndarray) -> bool:
            bar.update(_PROGRESS_EVERY)
            return False  # never stop early

        tsne = openTSNE.TSNE(
            perplexity=min(perplexity, (n - 1) / 3),
            early_exaggeration_iter=early,
            n_iter=main,
            initialization="pca" if init is None else init,
            neighbors="exact" if n < 1000 else "annoy",
            negative_gradient_method="fft" if n >= FFT_MIN_POINTS else "bh",
            n_jobs=n_jobs,
            random_state=seed,
            callbacks=[advance],
            callbacks_every_iters=_PROGRESS_EVERY,
        )
        tsne_log = logging.getLogger("openTSNE.tsne")
        level = tsne_log.level
        tsne_log.setLevel(logging.ERROR)  # its "high variance initialisation" warning is meant for random inits
        try:
            return np.asarray(tsne.fit(x), dtype=np.float64)
        finally:
            tsne_log.setLevel(level)


def place_new_points(x: np.ndarray, init: np.ndarray) -> np.ndarray:
    """`init` with each NaN row replaced by the mean of the rows of its PLACE_NEIGHBOURS nearest
    neighbours (by `x`, Euclidean) among the finite rows. Needs at least one finite row."""
    init = np.array(init, dtype=np.float64)
    if init.shape != (len(x), 2):
        raise ValueError(f"init must have shape ({len(x)}, 2), got {init.shape}")
    new = np.isnan(init).any(axis=1)
    if new.all() or not np.isfinite(init[~new]).all():
        raise ValueError("init needs finite positions for at least one point and NaN rows for new ones")
    if new.any():
        k = min(PLACE_NEIGHBOURS, int((~new).sum()))
        nearest = NearestNeighbors(n_neighbors=k).fit(x[~new]).kneighbors(x[new], return_distance=False)
        init[new] = init[~new][nearest].mean(axis=1)
    return init


def _principal_plane(x: np.ndarray) -> np.ndarray:
    """The first two principal coordinates of a handful of points (zeros where there are fewer)."""
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    plane = np.zeros((len(x), 2))
    k = min(2, len(s))
    plane[:, :k] = u[:, :k] * s[:k]
    return plane


def normalise_unit(xy: np.ndarray) -> np.ndarray:
    """Scale and shift points into [0, 1]² keeping the aspect ratio: the longer side spans [0, 1], the
    shorter one is centred. Coincident points all go to (0.5, 0.5)."""
    xy = np.asarray(xy, dtype=np.float64)
    if len(xy) == 0:
        return xy.reshape(0, 2)
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    longest = span.max()
    if longest == 0:
        return np.full_like(xy, 0.5)
    return (xy - lo) / longest + (1 - span / longest) / 2


def procrustes_align(moving: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`moving` rotated or reflected, uniformly scaled and translated to best match `target` point for
    point (least squares), so that two layouts of the same images share their orientation."""
    moving = np.asarray(moving, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if moving.shape != target.shape:
        raise ValueError(f"layouts differ in shape: {moving.shape} vs {target.shape}")
    m_mean, t_mean = moving.mean(axis=0), target.mean(axis=0)
    m, t = moving - m_mean, target - t_mean
    norm = (m**2).sum()
    if norm == 0:
        return np.broadcast_to(t_mean, moving.shape).copy()
    rotation, singular_sum = orthogonal_procrustes(m, t)
    return m @ rotation * (singular_sum / norm) + t_mean
