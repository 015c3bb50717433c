"""Display positions for the t-SNE state: clustered images spread apart so that every image is seen,
keeping the map's neighbourhoods and the gaps between its clusters (issue 9; research note:
/work/research/issue9_overlap.md).

`spread_layout(tsne, cols, rows)` takes a layout's `tsne` array (normalised into [0, 1]² as
`embed.core.reduce.normalise_unit` writes it) and the grid size and returns the display positions (same
convention) with the image side in grid cells (`tsne_image_size`) and their metrics. All work happens in
the sketch's world units (`layoutfile.tsne_world`), so the sketch's own fit of the stored array reproduces
the positions measured here.

Method (`display_positions`, parameters in `SpreadParams`):
 1. Image side from the coverage target: size = √(cover · cols · rows / N) (≤ 0.95); where images crowd,
    the target density is phi images per size².
 2. Cluster level: points are grouped into connected components of their occupancy (each point a Gaussian
    of its own area π d10² / 10, sd 1.5 · d10, on a raster); each component is scaled uniformly about its
    centroid to the area it needs (so clusters keep their shape) and the components' bounding circles are
    arranged without overlap in the box, their targets the centroids stretched onto the box (the map's
    aspect changes only between clusters). Small components follow their nearest arranged one.
 3. Local level, `rounds` times: a density-equalising flow (Dacorogna–Moser, as Gastner, Seguy & More,
    PNAS 2018: one Neumann Poisson solve by DCT, a tracer lattice advected by Heun steps) gives room
    where points are denser than the target, then a moving-least-squares similarity projection (each point
    placed by the best rotation + scale + shift of its mls_k raw neighbours) removes the flow's local shear.
 4. Fit into the box (images grow with the fit, ≤ 0.95 cells), then pairs of centres closer than
    kappa · size are pushed apart (Jacobi iterations): no image covers more than 1 − kappa of another on
    an axis. Safety net (maps far denser than t-SNE output): push longer, then shrink the side.
Deterministic: the same input gives the same output.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.fft import dctn, idctn, next_fast_len
from scipy.ndimage import map_coordinates
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from embed.core.metrics import DISPLAY_TARGETS, covered_share, display_metrics, meets_display_targets
from embed.core.reduce import normalise_unit
from layoutfile import tsne_world

MAX_SIZE = 0.95


@dataclass(frozen=True)
class SpreadParams:
    """Tuning of `display_positions` (defaults measured in the research note)."""

    cover: float = 0.51         # planned sum of image areas / box area (the union ends at ~0.31-0.38)
    phi: float = 1.0            # target density: images per size² where clusters are too dense
    kappa: float = 0.7          # final minimum centre distance, in image sides (0.6: more images hidden in draw order)
    k: int = 10                 # neighbours for local densities
    raster: int = 512           # pixels on the box's longer side for occupancy and flow
    comp_bw: float = 1.5        # occupancy kernel sd, in 10-NN distances
    comp_thr: float = 0.5       # occupancy threshold for components
    circle_margin: float = 1.05
    circle_gap: float = 0.5     # gap between cluster circles, in image sides
    arrange_iters: int = 300
    min_cluster: int = 5        # smaller clusters are not arranged as bodies of their own
    spring: float = 0.02
    rounds: int = 3             # local rounds (flow + similarity projection)
    graph_iters: int = 10       # log-averaging passes of the expansion over the 10-NN graph
    occ_gain: float = 2.0
    gap_min: float = 0.05       # gaps keep at least this share of their area in a flow
    lattice_stride: int = 3
    max_step_px: float = 4.0
    mls_k: int = 40
    mls_rounds: int = 6
    push_iters: int = 40
    max_covered: float = 0.08   # safety net: share of images > half covered that triggers it


@dataclass(frozen=True)
class Spread:
    """The t-SNE state as displayed: positions in [0, 1]² (normalise_unit), image side in cells, metrics."""

    positions: np.ndarray
    size: float
    metrics: dict


COVER_STEP, COVER_TRIES = 0.03, 3   # the guard: cover moved by this much, at most this many more times


def spread_layout(tsne: np.ndarray, cols: int, rows: int, params: SpreadParams = SpreadParams()) -> Spread:
    """Display positions of a layout's t-SNE map that meet DISPLAY_TARGETS where the map allows.

    A guard against collections landing just under a target: if the union coverage falls short, `cover`
    is raised by COVER_STEP and the spread run again; if the 10-NN agreement does, it is lowered (at most
    COVER_TRIES more runs). The first result meeting every target wins, else the one missing them least.
    """
    tried: list[Spread] = []
    for _ in range(COVER_TRIES + 1):
        positions, size = display_positions(tsne, cols, rows, params)
        result = Spread(positions, size, display_metrics(tsne, positions, size, cols, rows))
        tried.append(result)
        if meets_display_targets(result.metrics) or len(tsne) < 3:
            return result
        metrics = result.metrics
        if metrics["display_union_coverage"] < DISPLAY_TARGETS["display_union_coverage"]:
            step = COVER_STEP
        elif metrics["display_knn10_agreement"] < DISPLAY_TARGETS["display_knn10_agreement"]:
            step = -COVER_STEP
        else:
            break   # only the overlap target is missed: another cover does not help
        params = dataclasses.replace(params, cover=params.cover + step)
    return min(tried, key=lambda s: _shortfall(s.metrics))


def _shortfall(metrics: dict) -> float:
    """How far metrics miss DISPLAY_TARGETS (0 when they meet them all)."""
    return (max(0.0, metrics["display_covered_gt_half"] - DISPLAY_TARGETS["display_covered_gt_half"])
            + max(0.0, DISPLAY_TARGETS["display_union_coverage"] - metrics["display_union_coverage"])
            + max(0.0, DISPLAY_TARGETS["display_knn10_agreement"] - metrics["display_knn10_agreement"]))


def display_positions(tsne: np.ndarray, cols: int, rows: int,
                      params: SpreadParams = SpreadParams()) -> tuple[np.ndarray, float]:
    """(display positions (N, 2) in [0, 1]² normalised like `normalise_unit`, image side in grid cells).

    Fewer than 3 points, or all points coincident, come back unchanged with side 1.
    """
    tsne = np.asarray(tsne, dtype=np.float64).reshape(-1, 2)
    if len(tsne) < 3 or np.ptp(tsne, axis=0).max() == 0:
        return tsne.copy(), 1.0
    world, size = display_world(tsne_world(tsne, cols, rows), cols, rows, params)
    return normalise_unit(world), size


def display_world(world: np.ndarray, cols: int, rows: int,
                  params: SpreadParams = SpreadParams()) -> tuple[np.ndarray, float]:
    """As `display_positions`, on world centres (the raw map already fitted into the box): returns world
    centres (fitted into the box again) and the image side."""
    p = params
    n = len(world)
    box = (0.5, 0.5, cols - 0.5, rows - 0.5)
    size = min(MAX_SIZE, math.sqrt(p.cover * cols * rows / n))
    rho_max = p.phi / (size * size)
    raster = _Raster(box, p.raster)
    positions = _cluster_layout(world, raster, size, rho_max, p)
    _, mls_neighbours = cKDTree(world).query(world, min(p.mls_k, n - 1) + 1, workers=-1)
    projection = _similarity_operator(world, mls_neighbours)
    knn = mls_neighbours[:, 1:min(p.k, n - 1) + 1]          # the raw map's k nearest neighbours
    for _ in range(p.rounds):
        positions = _flow_step(positions, raster, rho_max, p, knn)
        positions = _fit_inside(_similarity_project(projection, positions, p.mls_rounds), raster)
    size = min(MAX_SIZE, size * _fit_scale(positions, cols, rows))
    centres = tsne_world(_push_apart(tsne_world(positions, cols, rows), p.kappa * size, p.push_iters, box),
                         cols, rows)
    if covered_share(centres, size) > p.max_covered:   # safety net: more pushing, then smaller images
        centres = tsne_world(_push_apart(centres, p.kappa * size, 2 * p.push_iters, box, seed=1), cols, rows)
        if covered_share(centres, size) > p.max_covered:
            lo, hi = 0.05, size
            for _ in range(10):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if covered_share(centres, mid) <= p.max_covered else (lo, mid)
            size = lo
    return centres, size


# --- geometry helpers --------------------------------------------------------------------------------------

def _fit_scale(points: np.ndarray, cols: int, rows: int) -> float:
    """The factor by which tsne_world enlarges `points` (world units) to fill the box."""
    extent = np.maximum(np.ptp(points, axis=0), 1e-12)
    return float(min((cols - 1) / extent[0], (rows - 1) / extent[1]))


class _Raster:
    """Pixel-centre raster over box (x0, y0, x1, y1) with `long` pixels on the longer side (FFT-friendly)."""

    def __init__(self, box: tuple[float, float, float, float], long: int) -> None:
        x0, y0, x1, y1 = box
        self.w, self.h = x1 - x0, y1 - y0
        px = max(self.w, self.h) / long
        self.lx = next_fast_len(max(2, math.ceil(self.w / px)), real=True)
        self.ly = next_fast_len(max(2, math.ceil(self.h / px)), real=True)
        self.hx, self.hy = self.w / self.lx, self.h / self.ly
        self.lo, self.hi = np.array([x0, y0]), np.array([x1, y1])
        self.kx2 = (np.pi * np.arange(self.lx) / self.w) ** 2
        self.ky2 = (np.pi * np.arange(self.ly) / self.h) ** 2

    def coords(self, q: np.ndarray) -> np.ndarray:
        """(row, column) pixel coordinates of world points, as map_coordinates takes them."""
        return np.stack([(q[:, 1] - self.lo[1]) / self.hy - 0.5, (q[:, 0] - self.lo[0]) / self.hx - 0.5])

    def deposit(self, xy: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Bilinear (cloud-in-cell) deposit of weights, per world area."""
        c = self.coords(xy)
        v, u = np.clip(c[0], 0, self.ly - 1), np.clip(c[1], 0, self.lx - 1)
        i0 = np.minimum(np.floor(u).astype(np.int64), self.lx - 2)
        j0 = np.minimum(np.floor(v).astype(np.int64), self.ly - 2)
        fu, fv = u - i0, v - j0
        out = np.zeros(self.ly * self.lx)
        for dj, wj in ((0, 1 - fv), (1, fv)):
            for di, wi in ((0, 1 - fu), (1, fu)):
                out += np.bincount((j0 + dj) * self.lx + i0 + di, weights=weights * wi * wj, minlength=out.size)
        return out.reshape(self.ly, self.lx) / (self.hx * self.hy)

    def smooth(self, field: np.ndarray, sigma: float) -> np.ndarray:
        """Gaussian smoothing (sd in world units) with reflecting borders, in the DCT domain."""
        if sigma <= 0:
            return field
        gain = np.exp(-0.5 * sigma * sigma * self.ky2)[:, None] * np.exp(-0.5 * sigma * sigma * self.kx2)[None, :]
        return idctn(dctn(field, type=2, norm="ortho") * gain, type=2, norm="ortho")

    def adaptive(self, xy: np.ndarray, weights: np.ndarray, sd: np.ndarray) -> np.ndarray:
        """Σ weight_i · Gaussian(sd_i) at the points, per world area: points binned by sd in steps of √2,
        one smoothing per bin."""
        px = min(self.hx, self.hy)
        sd = np.maximum(sd, 0.5 * px)
        level = np.round(2 * np.log2(sd / (0.5 * px))).astype(int)
        out = np.zeros((self.ly, self.lx))
        for lv in np.unique(level):
            sel = level == lv
            h = 0.5 * px * 2 ** (lv / 2)
            out += self.smooth(self.deposit(xy[sel], weights[sel]), math.sqrt(max(h * h - (0.4 * px) ** 2, 0.0)))
        return np.maximum(out, 0.0)


def _local_areas(points: np.ndarray, k: int, box_area: float) -> tuple[np.ndarray, np.ndarray]:
    """Own area of each point (π d_k² / k, at most 2 mean cells) and d_k, its distance to the k-th neighbour."""
    k = min(k, len(points) - 1)
    dk, _ = cKDTree(points).query(points, k + 1, workers=-1)
    dk = np.maximum(dk[:, -1], 1e-9 * math.sqrt(box_area))
    return np.minimum(np.pi * dk ** 2 / k, 2.0 * box_area / len(points)), dk


def _fit_inside(points: np.ndarray, raster: _Raster) -> np.ndarray:
    """Shrink `points` uniformly about the box centre if they poke out of the box (no piling up on the walls)."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    if (lo >= raster.lo - 1e-9).all() and (hi <= raster.hi + 1e-9).all():
        return points
    centre = (raster.lo + raster.hi) / 2
    half = np.maximum(np.maximum(centre - lo, hi - centre), 1e-12)
    factor = min(1.0, float(((raster.hi - raster.lo) / 2 / half).min()))
    return (points - centre) * factor + centre


# --- stage 2: clusters -------------------------------------------------------------------------------------

def _cluster_layout(world: np.ndarray, raster: _Raster, size: float, rho_max: float, p: SpreadParams) -> np.ndarray:
    """Scale each occupancy component to the area it needs and arrange the components in the box."""
    area, dk = _local_areas(world, p.k, raster.w * raster.h)
    occupancy = raster.adaptive(world, area, np.maximum(p.comp_bw * dk, min(raster.hx, raster.hy)))
    labelled, n_labels = ndimage.label(occupancy > p.comp_thr)
    ij = np.rint(raster.coords(world)).astype(int)
    label = labelled[np.clip(ij[0], 0, raster.ly - 1), np.clip(ij[1], 0, raster.lx - 1)]
    single = label == 0
    label[single] = n_labels + 1 + np.arange(single.sum())
    _, labels = np.unique(label, return_inverse=True)
    m = labels.max() + 1
    count = np.bincount(labels, minlength=m)
    centroid = np.stack([np.bincount(labels, world[:, 0], m), np.bincount(labels, world[:, 1], m)], 1) / count[:, None]
    need = np.bincount(labels, np.maximum(area, 1.0 / rho_max), m)
    scale = np.sqrt(need / np.maximum(np.bincount(labels, area, m), 1e-300))
    rel = world - centroid[labels]
    r2 = (rel ** 2).sum(axis=1)
    rms = np.sqrt(np.bincount(labels, r2, m) / count)
    rmax = np.zeros(m)
    np.maximum.at(rmax, labels, np.sqrt(r2))
    radius = scale * np.minimum(math.sqrt(2) * rms, rmax) * p.circle_margin + 0.5 * size
    fill = min(1.0, math.sqrt(0.75 * raster.w * raster.h / (np.pi * radius ** 2).sum()))
    lo, span = centroid.min(axis=0), np.maximum(np.ptp(centroid, axis=0), 1e-9)
    targets = raster.lo + (centroid - lo) / span * (raster.hi - raster.lo)
    big = count >= p.min_cluster
    placed = targets.copy()
    if big.sum() >= 2:
        placed[big] = _arrange_circles(targets[big], radius[big] * fill, raster, p.arrange_iters, p.spring,
                                       p.circle_gap * size * fill)
        small = np.flatnonzero(~big)
        if len(small):
            arranged = np.flatnonzero(big)
            nearest = arranged[cKDTree(centroid[arranged]).query(centroid[small])[1]]
            placed[small] = targets[small] + (placed[nearest] - targets[nearest])
    return _fit_inside(placed[labels] + scale[labels, None] * rel, raster)


def _arrange_circles(targets: np.ndarray, radius: np.ndarray, raster: _Raster, iters: int, spring: float,
                     gap: float, rebuild: int = 10) -> np.ndarray:
    """Circles start at their targets; overlapping pairs are pushed apart (bigger ones move less), weak
    springs pull them back, walls keep them inside. Candidate pairs are rebuilt every `rebuild` iterations:
    small–small pairs from one KD-tree pair query, pairs with one of the few big circles (radius above the
    95th percentile) by ball queries, so one huge cluster does not make the candidate set quadratic."""
    q = np.array(targets, dtype=np.float64)
    m = len(q)
    mass = radius ** 2 + 1e-12
    lo = np.minimum(raster.lo + radius[:, None], (raster.lo + raster.hi) / 2)
    hi = np.maximum(raster.hi - radius[:, None], (raster.lo + raster.hi) / 2)
    jitter = np.random.default_rng(0).normal(size=(m, 2))
    r_small = float(np.quantile(radius, 0.95))
    big = np.flatnonzero(radius > r_small)
    skin = 0.5 * r_small + gap
    pairs = np.zeros((0, 2), dtype=np.int64)
    for it in range(iters):
        if it % rebuild == 0:
            tree = cKDTree(q)
            parts = [tree.query_pairs(2 * r_small + gap + skin, output_type="ndarray")]
            for b in big:
                near = np.asarray(tree.query_ball_point(q[b], radius[b] + radius.max() + gap + skin), dtype=np.int64)
                near = near[near != b]
                parts.append(np.stack([np.full(len(near), b), near], axis=1))
            pairs = parts[0]
            if len(big):
                keys = np.unique(np.sort(np.concatenate(parts), axis=1).astype(np.int64) @ np.array([m, 1]))
                pairs = np.stack([keys // m, keys % m], axis=1)
        q += spring * (targets - q)
        if len(pairs):
            i, j = pairs[:, 0], pairs[:, 1]
            d = q[j] - q[i]
            dist = np.sqrt((d ** 2).sum(axis=1))
            want = radius[i] + radius[j] + gap
            hit = dist < want
            if hit.any():
                i, j, d, dist, want = i[hit], j[hit], d[hit], dist[hit], want[hit]
                zero = dist < 1e-12
                d[zero] = jitter[j[zero]] - jitter[i[zero]]
                dist[zero] = np.sqrt((d[zero] ** 2).sum(axis=1))
                over = ((want - dist) / dist)[:, None] * d
                share_i = mass[j] / (mass[i] + mass[j])
                conflicts = np.maximum(np.bincount(i, minlength=m) + np.bincount(j, minlength=m), 1)
                for a in range(2):
                    q[:, a] += 0.8 * (np.bincount(j, over[:, a] * (1 - share_i), m)
                                      - np.bincount(i, over[:, a] * share_i, m)) / conflicts
        np.clip(q, lo, hi, out=q)
    return q


# --- stage 3: local equalisation ---------------------------------------------------------------------------

def _flow_step(points: np.ndarray, raster: _Raster, rho_max: float, p: SpreadParams, knn: np.ndarray) -> np.ndarray:
    """One density-equalising flow: points denser than rho_max get room (expansion log-averaged over the raw
    map's k-NN graph `knn`), empty space shrinks to provide it (down to gap_min of its area at most). A point's
    own area is π d² / k, d its current distance to the farthest of its raw k-NN."""
    k = knn.shape[1]
    box_area = raster.w * raster.h
    dk = np.sqrt(((points[knn] - points[:, None, :]) ** 2).sum(axis=2)).max(axis=1)
    dk = np.maximum(dk, 1e-9 * math.sqrt(box_area))
    area = np.minimum(np.pi * dk ** 2 / k, 2.0 * box_area / len(points))
    sd = np.maximum(1.5 * dk, min(raster.hx, raster.hy))
    occupancy = raster.adaptive(points, area, sd)
    neighbour_area = area[knn]
    area_sum = neighbour_area.sum(axis=1) + area
    log_expansion = np.log(np.maximum(1.0, 1.0 / (area * rho_max)))
    for _ in range(p.graph_iters):
        log_expansion = ((neighbour_area * log_expansion[knn]).sum(axis=1) + area * log_expansion) / area_sum
    expansion = raster.adaptive(points, area * np.exp(log_expansion), sd) / np.maximum(occupancy, 1e-300)
    expansion = np.where(occupancy > 1e-9 * occupancy.max(), np.maximum(expansion, 1.0), 1.0)
    solid = np.minimum(1.0, p.occ_gain * occupancy)
    need, free = (expansion * solid).mean(), (1.0 - solid).mean()
    gap = (1.0 - need) / max(free, 1e-12)
    shrink = 1.0
    if gap < p.gap_min:
        shrink, gap = (1.0 - p.gap_min * free) / need, p.gap_min
    mass = shrink * expansion * solid + min(gap, 1.0) * (1.0 - solid)
    return _flow_lattice(points, raster, np.maximum(mass, 1e-9 * mass.max()), p.lattice_stride, p.max_step_px)


def _flow_lattice(xy: np.ndarray, raster: _Raster, mass: np.ndarray, stride: int, max_step_px: float) -> np.ndarray:
    """Dacorogna–Moser flow making `mass` uniform over the box: ψ from ∇²ψ = mass − mean (Neumann, DCT),
    velocity ∇ψ / ((1 − t) mass + t mean), t: 0 → 1. A lattice of tracers is advected (Heun steps moving no
    tracer more than max_step_px pixels) and the points follow by bilinear interpolation."""
    mean = mass.mean()
    k2 = raster.ky2[:, None] + raster.kx2[None, :]
    k2[0, 0] = 1.0
    psi_hat = dctn(mass - mean, type=2, norm="ortho") / -k2
    psi_hat[0, 0] = 0.0
    fy, fx = np.gradient(idctn(psi_hat, type=2, norm="ortho"), raster.hy, raster.hx)
    fx[:, 0] = fx[:, -1] = 0.0
    fy[0, :] = fy[-1, :] = 0.0
    gx = np.linspace(raster.lo[0], raster.hi[0], max(2, raster.lx // stride + 1))
    gy = np.linspace(raster.lo[1], raster.hi[1], max(2, raster.ly // stride + 1))
    mx, my = np.meshgrid(gx, gy)
    nodes = np.stack([mx.ravel(), my.ravel()], axis=1)

    def velocity(x: np.ndarray, t: float) -> np.ndarray:
        c = raster.coords(x)
        density = (1 - t) * map_coordinates(mass, c, order=1, mode="nearest") + t * mean
        return np.stack([map_coordinates(fx, c, order=1, mode="nearest"),
                         map_coordinates(fy, c, order=1, mode="nearest")], axis=1) / density[:, None]

    q, t = nodes.copy(), 0.0
    v0 = velocity(q, 0.0)
    max_step = max_step_px * min(raster.hx, raster.hy)
    while t < 1.0 - 1e-9:
        vmax = np.sqrt((v0 ** 2).sum(axis=1)).max()
        dt = min(1.0 - t, max_step / vmax if vmax > 0 else 1.0)
        v1 = velocity(np.clip(q + dt * v0, raster.lo, raster.hi), t + dt)
        q = np.clip(q + 0.5 * dt * (v0 + v1), raster.lo, raster.hi)
        t += dt
        if t < 1.0 - 1e-9:
            v0 = velocity(q, t)
    shift = (q - nodes).reshape(len(gy), len(gx), 2)
    c = np.stack([(xy[:, 1] - gy[0]) / (gy[1] - gy[0]), (xy[:, 0] - gx[0]) / (gx[1] - gx[0])])
    out = xy + np.stack([map_coordinates(shift[..., 0], c, order=1, mode="nearest"),
                         map_coordinates(shift[..., 1], c, order=1, mode="nearest")], axis=1)
    return np.clip(out, raster.lo, raster.hi)


def _similarity_operator(raw: np.ndarray, neighbours: np.ndarray) -> csr_matrix:
    """Sparse complex matrix M of the moving-least-squares similarity projection over the raw neighbourhoods
    (each row: the point and its neighbours). With w = x + iy of the current positions, the best similarity
    a z + b of neighbourhood i onto w has a_i = Σ_j conj(zc_ij) w_j / zz_i and b_i = mean_j w_j − a_i zm_i,
    so the projected position a_i z_i + b_i is linear in w: M w."""
    n, m = neighbours.shape
    z = raw[:, 0] + 1j * raw[:, 1]
    zn = z[neighbours]
    zm = zn.mean(axis=1)
    zc = zn - zm[:, None]
    zz = np.maximum((np.abs(zc) ** 2).sum(axis=1), 1e-300)
    coef = np.conj(zc) / zz[:, None] * (z - zm)[:, None] + 1.0 / m
    return csr_matrix((coef.ravel(), neighbours.ravel(), np.arange(0, n * m + 1, m)), shape=(n, n))


def _similarity_project(projection: csr_matrix, points: np.ndarray, rounds: int) -> np.ndarray:
    """Apply the projection operator `rounds` times (each round smooths the map further)."""
    w = points[:, 0] + 1j * points[:, 1]
    for _ in range(rounds):
        w = projection @ w
    return np.stack([w.real, w.imag], axis=1)


# --- stage 4: overlap removal ------------------------------------------------------------------------------

def _push_apart(points: np.ndarray, dist: float, iters: int, box: tuple[float, float, float, float], seed: int = 0,
                rebuild: int = 8, skin: float = 0.6) -> np.ndarray:
    """Jacobi overlap removal: pairs closer than `dist` move apart along their centre line by half the
    shortfall each (a point's pushes averaged over its conflicts); candidate pairs within dist · (1 + skin)
    are rebuilt every `rebuild` iterations; coincident points separate in a fixed pseudo-random direction.
    Points that leave the box are pulled halfway back (no clamping onto the walls)."""
    p = np.array(points, dtype=np.float64)
    n = len(p)
    lo, hi = np.array(box[:2]), np.array(box[2:])
    jitter = np.random.default_rng(seed).normal(size=(n, 2))
    pairs = np.zeros((0, 2), dtype=np.int64)
    for it in range(iters):
        if it % rebuild == 0:
            pairs = cKDTree(p).query_pairs(dist * (1 + skin), output_type="ndarray")
            if len(pairs) == 0:
                break
        i, j = pairs[:, 0], pairs[:, 1]
        d = p[j] - p[i]
        r = np.sqrt((d ** 2).sum(axis=1))
        hit = r < dist
        if not hit.any():
            if it % rebuild == 0:
                break
            continue
        i, j, d, r = i[hit], j[hit], d[hit], r[hit]
        zero = r < 1e-9 * dist
        d[zero] = jitter[j[zero]] - jitter[i[zero]]
        r[zero] = np.sqrt((d[zero] ** 2).sum(axis=1))
        push = (0.5 * (dist - r) / r)[:, None] * d
        conflicts = np.maximum(np.bincount(i, minlength=n) + np.bincount(j, minlength=n), 1)
        for a in range(2):
            p[:, a] += (np.bincount(j, push[:, a], n) - np.bincount(i, push[:, a], n)) / conflicts
        p = np.where(p < lo, (p + lo) / 2, np.where(p > hi, (p + hi) / 2, p))
    return p
