"""Feature vectors → 2-D: standardise, PCA, openTSNE; plus normalising and aligning 2-D layouts."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import openTSNE
from sklearn.decomposition import PCA
from tqdm import tqdm

MIN_TSNE_POINTS = 5  # fewer points than this are laid out by PCA alone
FFT_MIN_POINTS = 10_000  # Barnes-Hut gradients are faster below (300 points: 1 s vs 8 s)
_PROGRESS_EVERY = 10  # iterations between progress-bar updates
_EARLY_ITER, _MAIN_ITER = 250, 500  # openTSNE's defaults, spelled out for the progress bar


@dataclass(frozen=True)
class Projection:
    """The map from a layout's feature rows to its t-SNE input: centre, then PCA (kept between runs, so
    that a later run puts new images into the space of the saved map; embed/core/place.py)."""

    mean: np.ndarray                # (D,) float32
    components: np.ndarray | None   # (dims, D) float32; None: no PCA (D <= dims)
    scale: np.ndarray | None = None   # (D,) float32 column factors applied after centring (standardise=True)

    @classmethod
    def fit(cls, features: np.ndarray, *, pca_dims: int = 50, seed: int = 0, standardise: bool = False) -> Projection:
        """Centre (and, with `standardise`, scale to unit variance) the columns, then PCA to `pca_dims`."""
        x = _checked_copy(features)
        mean = x.mean(axis=0)
        x -= mean
        scale = None
        if standardise:
            std = x.std(axis=0)
            scale = (1.0 / np.where(std > 0, std, 1.0)).astype(np.float32)
            x *= scale
        dims = min(pca_dims, len(x), x.shape[1])
        components = None
        if dims < x.shape[1] and x.any():
            pca = PCA(n_components=dims, random_state=seed).fit(x)
            mean = mean + (pca.mean_ / (1 if scale is None else scale)).astype(np.float32)
            components = pca.components_.astype(np.float32)
        return cls(mean.astype(np.float32), components, scale)

    def apply(self, features: np.ndarray) -> np.ndarray:
        """(N, dims) float64 t-SNE input rows of `features` (N, D)."""
        x = _checked_copy(features)
        x -= self.mean
        if self.scale is not None:
            x *= self.scale
        if self.components is not None:
            x = x @ self.components.T
        return x.astype(np.float64)


def _checked_copy(features: np.ndarray) -> np.ndarray:
    """One float32 working copy of a finite, non-empty (N, D) array (100k × 2048 is 0.8 GB)."""
    x = np.array(features, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0 or not np.isfinite(x).all():
        raise ValueError(f"features must be a finite, non-empty (N, D) array, got shape {x.shape}")
    return x


def reduce_to_2d(
    features: np.ndarray,
    *,
    perplexity: float = 30,
    seed: int = 0,
    pca_dims: int = 50,
    n_jobs: int = -1,
    standardise: bool = True,
    progress: bool = True,
) -> np.ndarray:
    """(N, D) features → (N, 2) t-SNE coordinates; the same input and seed give the same output.

    Columns are standardised and reduced by PCA to `pca_dims` (`Projection`), then embedded by `tsne_2d`.
    `standardise=False` keeps the columns' scales (for features already weighted block by block, see
    embed/core/combine.py); they are still centred.
    """
    projection = Projection.fit(features, pca_dims=pca_dims, seed=seed, standardise=standardise)
    return tsne_2d(projection.apply(features), perplexity=perplexity, seed=seed, n_jobs=n_jobs, progress=progress)


def tsne_2d(x: np.ndarray, *, perplexity: float = 30, seed: int = 0, n_jobs: int = -1,
            progress: bool = True) -> np.ndarray:
    """(N, d) t-SNE input rows → (N, 2) coordinates by openTSNE with PCA initialisation and a fixed seed.

    Gradients are FFT-accelerated from FFT_MIN_POINTS points (Barnes-Hut below), neighbours exact below
    1,000 points and approximate (Annoy) above. `n_jobs=-1` uses every core. Perplexity is capped at
    (N - 1) / 3 for small N; below MIN_TSNE_POINTS points the first two principal components are returned
    instead (all zeros when every row is the same).
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n < MIN_TSNE_POINTS or not x.any():
        return _principal_plane(x)
    with tqdm(total=_EARLY_ITER + _MAIN_ITER, desc="t-SNE", unit="it", disable=not progress) as bar:

        def advance(iteration: int, error: float, embedding: np.ndarray) -> bool:
            bar.update(_PROGRESS_EVERY)
            return False  # never stop early

        tsne = openTSNE.TSNE(
            perplexity=min(perplexity, (n - 1) / 3),
            early_exaggeration_iter=_EARLY_ITER,
            n_iter=_MAIN_ITER,
            initialization="pca",
            neighbors="exact" if n < 1000 else "annoy",
            negative_gradient_method=gradient_method(n),
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


def gradient_method(n: int) -> str:
    """openTSNE's negative-gradient method for a map of `n` points."""
    return "fft" if n >= FFT_MIN_POINTS else "bh"


def _principal_plane(x: np.ndarray) -> np.ndarray:
    """The first two principal coordinates of a handful of points (zeros where there are fewer)."""
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    plane = np.zeros((len(x), 2))
    k = min(2, len(s))
    plane[:, :k] = u[:, :k] * s[:k]
    return plane


def normalise_unit(xy: np.ndarray, within: np.ndarray | None = None) -> np.ndarray:
    """Scale and shift points into [0, 1]² keeping the aspect ratio: the longer side of the bounding box of
    `within` (default: the points themselves) spans [0, 1], the shorter one is centred; points outside that
    box are first moved onto its border. Coincident points all go to (0.5, 0.5)."""
    xy = np.asarray(xy, dtype=np.float64)
    box = xy if within is None else np.asarray(within, dtype=np.float64)
    if len(xy) == 0:
        return xy.reshape(0, 2)
    lo, hi = box.min(axis=0), box.max(axis=0)
    span = hi - lo
    longest = span.max()
    if longest == 0:
        return np.full_like(xy, 0.5)
    return (np.clip(xy, lo, hi) - lo) / longest + (1 - span / longest) / 2


def principal_fit(moving: np.ndarray, target: np.ndarray | None = None, *,
                  long_axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(matrix (2, 2), offset (2,)) such that `moving @ matrix + offset` is `moving` turned so that its
    principal axis (the direction of its largest spread) lies along axis `long_axis` (0: x, 1: y), then
    uniformly scaled and translated to best match `target` point for point (least squares).

    Of the four such turns (each axis either way; two are reflections), the one that best matches `target`
    is taken, so that two layouts of the same images share their orientation; with no target, the one
    nearest the points as they are, unscaled and unmoved. A grid is filled from the points' bounding box
    (embed/core/grid.py), and a cloud lying along the grid's long side needs less stretching: combined
    category ratios rose by 0.01–0.13 over a full rotation-and-reflection fit (docs/features.md).
    """
    moving = np.asarray(moving, dtype=np.float64)
    if long_axis not in (0, 1):
        raise ValueError(f"long_axis must be 0 (x) or 1 (y), got {long_axis!r}")
    if target is not None:
        target = np.asarray(target, dtype=np.float64)
        if moving.shape != target.shape:
            raise ValueError(f"layouts differ in shape: {moving.shape} vs {target.shape}")
    m_mean = moving.mean(axis=0)
    m = moving - m_mean
    norm = (m**2).sum()
    if norm == 0:
        return (np.eye(2), np.zeros(2)) if target is None else (np.zeros((2, 2)), target.mean(axis=0))
    axes = np.linalg.svd(m, full_matrices=False)[2].T   # columns: the principal directions, largest first
    if long_axis == 1:
        axes = axes[:, ::-1]
    turns = [axes * signs for signs in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
    if target is None:
        return max(turns, key=np.trace), np.zeros(2)
    t_mean = target.mean(axis=0)
    t = target - t_mean
    match = [float(((m @ turn) * t).sum()) for turn in turns]
    best = int(np.argmax(match))
    matrix = turns[best] * (max(match[best], 0.0) / norm)
    return matrix, t_mean - m_mean @ matrix
