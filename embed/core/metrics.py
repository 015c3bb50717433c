"""Layout quality: colour smoothness and category grouping on the grid, k-NN preservation and Distance
Preservation Quality; how the t-SNE state shows (overlap, coverage, neighbourhoods kept by the display positions).

The two ratios compare a grid with a random arrangement of the same images: colour_ratio is the mean ΔE
between 4-neighbouring cells ÷ the mean ΔE between any two images (lower = smoother); category_ratio
(images with labels, e.g. their sub-folders) is the share of 4-neighbours with the same label ÷ the chance
that two different random images share one (higher = categories grouped).

Quadratic measures are computed on a fixed-seed random subset of points (or of query points) so that
they stay fast at 100k images; the sizes used are reported alongside the values by `layout_metrics`.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from layoutfile import tsne_world

_CHUNK_ELEMENTS = 4_000_000  # rows × columns of one distance block (≈ 32 MB of float64)


def neighbour_pairs(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices (a, b) of the images in every pair of 4-neighbouring occupied grid cells."""
    grid = np.asarray(grid, dtype=np.int64)
    if len(grid) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    occupant = np.full(tuple(grid.max(axis=0) + 1), -1, dtype=np.int64)
    occupant[grid[:, 0], grid[:, 1]] = np.arange(len(grid))
    firsts, seconds = [], []
    for a, b in ((occupant[:-1, :], occupant[1:, :]), (occupant[:, :-1], occupant[:, 1:])):
        both = (a >= 0) & (b >= 0)
        firsts.append(a[both])
        seconds.append(b[both])
    return np.concatenate(firsts), np.concatenate(seconds)


def neighbour_colour_distance(grid: np.ndarray, colours: np.ndarray) -> float:
    """Mean CIE76 ΔE between the colours of 4-neighbouring occupied grid cells (0.0 when no such pair)."""
    a, b = neighbour_pairs(grid)
    colours = np.asarray(colours, dtype=np.float64)
    return float(np.linalg.norm(colours[a] - colours[b], axis=1).mean()) if len(a) else 0.0


def mean_pairwise_distance(colours: np.ndarray, *, max_points: int = 4000, seed: int = 0) -> float:
    """Mean CIE76 ΔE between two different images: a random arrangement's expected neighbour ΔE (over at
    most `max_points` fixed-seed random images; 0.0 for fewer than two)."""
    x = np.asarray(colours, dtype=np.float64)[sample_indices(len(colours), max_points, seed)]
    n = len(x)
    if n < 2:
        return 0.0
    x_sq = np.einsum("ij,ij->i", x, x)
    total = sum(np.sqrt(squared_distances(x[block], x, x_sq)).sum() for block in _chunks(n, n))
    return float(total / (n * (n - 1)))


def category_metrics(grid: np.ndarray, labels: list[str]) -> dict:
    """Same-label share of 4-neighbouring grid cells, the chance share of a random arrangement
    (Σ n_k(n_k − 1) / (N(N − 1))) and their ratio (0.0 when either is undefined)."""
    a, b = neighbour_pairs(grid)
    _, codes = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)
    n = len(codes)
    counts = np.bincount(codes).astype(np.float64)
    chance = float((counts * (counts - 1)).sum() / (n * (n - 1))) if n > 1 else 0.0
    same = float((codes[a] == codes[b]).mean()) if len(a) else 0.0
    return {"category_ratio": same / chance if chance > 0 else 0.0, "same_category_neighbours": same,
            "random_same_category": chance}


def squared_distances(queries: np.ndarray, points: np.ndarray, points_sq: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between every query row and every point row (never negative)."""
    d = points_sq[None, :] - 2.0 * (queries @ points.T) + np.einsum("ij,ij->i", queries, queries)[:, None]
    return np.maximum(d, 0.0)


def _chunks(n_rows: int, n_cols: int):
    step = max(1, _CHUNK_ELEMENTS // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def sample_indices(n: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of a fixed-seed random subset of `size` out of `n` (all of them when size >= n)."""
    if size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def knn_preservation(
    features: np.ndarray, positions: np.ndarray, k: int = 10, *, max_queries: int = 1000, seed: int = 0
) -> float:
    """Mean fraction of each point's k nearest neighbours in feature space that are also among its k
    nearest in the 2-D layout. Neighbours are searched among all points; the mean is taken over at most
    `max_queries` fixed-seed random query points. Ties in the layout (equidistant grid cells) are broken
    in favour of the points nearer in feature space, as DPQ does."""
    features = np.asarray(features, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64)
    n = len(features)
    k = min(k, n - 1)
    if k < 1:
        return 1.0
    queries = sample_indices(n, max_queries, seed)
    feat_sq = np.einsum("ij,ij->i", features, features)
    pos_sq = np.einsum("ij,ij->i", positions, positions)
    kept = 0
    for block in _chunks(len(queries), n):
        rows = queries[block]
        own = np.arange(len(rows))
        hd = squared_distances(features[rows], features, feat_sq)
        ld = squared_distances(positions[rows], positions, pos_sq)
        hd[own, rows] = np.inf
        ld[own, rows] = np.inf
        near_hd = np.argpartition(hd, k - 1, axis=1)[:, :k]
        kth = np.partition(ld, k - 1, axis=1)[:, k - 1 : k]
        # inside the k-th layout distance first, then ties at that distance by feature distance
        score = np.where(ld < kth, -1.0, np.where(ld == kth, hd, np.inf))
        near_ld = np.argpartition(score, k - 1, axis=1)[:, :k]
        near_ld.sort(axis=1)
        for a, b in zip(near_hd, near_ld):
            kept += np.isin(a, b, assume_unique=True).sum()
    return float(kept / (len(queries) * k))


def dpq(
    features: np.ndarray, positions: np.ndarray, p: float = 16, *, max_points: int = 4000, seed: int = 0
) -> float:
    """Distance Preservation Quality DPQ_p (Barthel et al., Computer Graphics Forum 2023) of a 2-D
    arrangement: 1 when every point's layout neighbours are, in order, its nearest feature-space
    neighbours, near 0 for a random arrangement. Same definition as `vc_flas.metrics.
    distance_preservation_quality`, generalised from grids to any 2-D positions (layout ties broken by
    feature distance); computed on at most `max_points` fixed-seed random points (O(n²) time)."""
    keep = sample_indices(len(features), max_points, seed)
    x = np.asarray(features, dtype=np.float64)[keep]
    y = np.asarray(positions, dtype=np.float64)[keep]
    n = len(x)
    if n < 2:
        return 1.0
    x_sq = np.einsum("ij,ij->i", x, x)
    y_sq = np.einsum("ij,ij->i", y, y)
    hd_sum = 0.0
    cum_hd = np.zeros(n - 1)
    cum_2d = np.zeros(n - 1)
    for block in _chunks(n, n):
        own = np.arange(block.stop - block.start)
        hd = np.sqrt(squared_distances(x[block], x, x_sq))
        ld = squared_distances(y[block], y, y_sq)
        hd[own, own + block.start] = 0.0
        ld[own, own + block.start] = -1.0  # the point itself always sorts first and is dropped
        hd_sum += hd.sum()
        by_2d = np.take_along_axis(hd, np.lexsort((hd, ld), axis=-1), axis=1)
        cum_2d += np.cumsum(by_2d[:, 1:], axis=1).sum(axis=0)
        cum_hd += np.cumsum(np.sort(hd, axis=1)[:, 1:], axis=1).sum(axis=0)
    mean_d = hd_sum / (n * (n - 1))
    if mean_d == 0.0:
        return 1.0
    ks = np.arange(1, n) * n

    def gain(cum: np.ndarray) -> np.ndarray:
        return np.clip((mean_d - cum / ks) / mean_d, 0.0, None)

    best = np.linalg.norm(gain(cum_hd), ord=p)
    return float(np.linalg.norm(gain(cum_2d), ord=p) / best) if best > 0 else 1.0


def layout_metrics(
    features: np.ndarray,
    colours: np.ndarray | None,
    grid: np.ndarray,
    tsne_xy: np.ndarray,
    labels: list[str] | None = None,
    *,
    max_points: int = 4000,
    max_queries: int = 1000,
    seed: int = 0,
) -> dict:
    """All quality measures of one layout, JSON-ready. `colours` (optional) are mean Lab colours per image, which
    add the colour metrics; `labels` (optional) a category per image, which adds category_metrics."""
    metrics = {}
    if colours is not None:
        neighbour = neighbour_colour_distance(grid, colours)
        random = mean_pairwise_distance(colours, max_points=max_points, seed=seed)
        metrics["colour_ratio"] = neighbour / random if random > 0 else 0.0
    if labels is not None:
        metrics.update(category_metrics(grid, labels))
    if colours is not None:
        metrics |= {"neighbour_colour_dE": neighbour, "random_colour_dE": random}
    return {
        **metrics,
        "knn10_grid": knn_preservation(features, grid, 10, max_queries=max_queries, seed=seed),
        "knn10_tsne": knn_preservation(features, tsne_xy, 10, max_queries=max_queries, seed=seed),
        "dpq16_grid": dpq(features, grid, 16, max_points=max_points, seed=seed),
        "dpq16_tsne": dpq(features, tsne_xy, 16, max_points=max_points, seed=seed),
        "knn_queries": min(max_queries, len(grid)),
        "dpq_points": min(max_points, len(grid)),
    }


# --- the t-SNE state as displayed (issue 9): images as squares of side `size` at world centres -------------

DISPLAY_TARGETS = {"display_covered_gt_half": 0.10, "display_union_coverage": 0.30, "display_knn10_agreement": 0.80}
"""At most 10 % of images more than half covered by one other, ≥ 30 % of the box covered, ≥ 0.8 of 10-NN kept."""


def covered_share(centres: np.ndarray, size: float, threshold: float = 0.5, k: int = 12) -> float:
    """Share of images (squares of side `size` centred on `centres`, world units) of which some single
    other image covers more than `threshold` of the area. Symmetric for equal squares, so independent of
    draw order. Exact: max-norm KD-tree candidates, and a full re-check of any image with more than `k`
    candidates within size / 2 (a cover above ½ needs both |dx| and |dy| below size / 2)."""
    p = np.asarray(centres, dtype=np.float64)
    n = len(p)
    if n < 2:
        return 0.0
    k = min(k, n - 1)
    tree = cKDTree(p)
    dist, idx = tree.query(p, k=k + 1, p=np.inf, distance_upper_bound=size)
    valid = (idx < n) & (idx != np.arange(n)[:, None])
    overlap = np.clip(size - np.abs(p[np.where(idx < n, idx, 0)] - p[:, None, :]), 0.0, None)
    best = np.where(valid, overlap[..., 0] * overlap[..., 1], 0.0).max(axis=1) / (size * size)
    for i in np.flatnonzero((best <= threshold) & (idx[:, -1] < n) & (dist[:, -1] < size / 2)):
        near = np.asarray(tree.query_ball_point(p[i], size / 2, p=np.inf), dtype=np.int64)
        near = near[near != i]
        if len(near):
            overlap = np.clip(size - np.abs(p[near] - p[i]), 0.0, None)
            best[i] = max(best[i], (overlap[:, 0] * overlap[:, 1]).max() / (size * size))
    return float((best > threshold).mean())


def union_coverage(centres: np.ndarray, size: float, cols: int, rows: int, px_per_cell: int | None = None) -> float:
    """Area of the union of the image squares (clipped to the box [0, cols] × [0, rows]) / (cols · rows), on a
    raster of px_per_cell (default 16, fewer above ~30 M pixels) by a difference array, without a loop."""
    if px_per_cell is None:
        px_per_cell = int(np.clip(np.floor(np.sqrt(3e7 / (cols * rows))), 4, 16))
    w, h = cols * px_per_cell, rows * px_per_cell
    p = np.asarray(centres, dtype=np.float64)
    if len(p) == 0:
        return 0.0
    lo = np.clip(np.ceil((p - size / 2) * px_per_cell - 0.5), 0, [w, h]).astype(np.int64)
    hi = np.clip(np.ceil((p + size / 2) * px_per_cell - 0.5), 0, [w, h]).astype(np.int64)
    keep = (hi > lo).all(axis=1)
    lo, hi = lo[keep], hi[keep]
    diff = np.zeros((h + 1, w + 1), dtype=np.int32)
    for (r, c), v in (((lo[:, 1], lo[:, 0]), 1), ((lo[:, 1], hi[:, 0]), -1), ((hi[:, 1], lo[:, 0]), -1),
                      ((hi[:, 1], hi[:, 0]), 1)):
        np.add.at(diff, (r, c), v)
    np.cumsum(diff, axis=0, out=diff)
    np.cumsum(diff, axis=1, out=diff)
    return float(np.count_nonzero(diff[:h, :w]) / (w * h))


def knn_agreement(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean over all points of |kNN_a(i) ∩ kNN_b(i)| / k (Euclidean, exact; a point is never its own neighbour)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = len(a)
    k = min(k, n - 1)
    if k < 1:
        return 1.0

    def neighbours(x: np.ndarray) -> np.ndarray:
        _, idx = cKDTree(x).query(x, k=k + 1)
        own = idx == np.arange(n)[:, None]
        own[~own.any(axis=1), -1] = True     # a duplicate came first: drop the farthest instead
        return idx[~own].reshape(n, k)

    na, nb = neighbours(a), neighbours(b)
    common = sum(int((na[s, :, None] == nb[s, None, :]).sum()) for s in
                 (slice(i, i + 50_000) for i in range(0, n, 50_000)))
    return common / (n * k)


def display_metrics(tsne: np.ndarray, display: np.ndarray, size: float, cols: int, rows: int) -> dict:
    """How the t-SNE state shows (DISPLAY_TARGETS): `display` placed as the sketch places it (tsne_world),
    images of side `size`; neighbourhoods compared with the raw map `tsne`."""
    world = tsne_world(display, cols, rows)
    return {
        "display_covered_gt_half": covered_share(world, size),
        "display_union_coverage": union_coverage(world, size, cols, rows),
        "display_knn10_agreement": knn_agreement(tsne, display, 10),
    }


def meets_display_targets(metrics: dict) -> bool:
    """True when display_metrics' values meet every DISPLAY_TARGETS bound."""
    return (metrics["display_covered_gt_half"] <= DISPLAY_TARGETS["display_covered_gt_half"]
            and metrics["display_union_coverage"] >= DISPLAY_TARGETS["display_union_coverage"]
            and metrics["display_knn10_agreement"] >= DISPLAY_TARGETS["display_knn10_agreement"])
