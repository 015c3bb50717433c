"""Grid assignment: wall and CPU seconds, DPQ16 and mean squared displacement per method, data and N.

    nice .venv/bin/python bench/bench_grid.py [--sizes 4000 20000 100000] [--data blobs density]
        [--methods lap fast tiles rasterfairy] [--lap-max 4000] [--repeats 1] [--metrics-n 0]

Points (2-D, like a t-SNE map), placed on the `grid_shape(N)` 16:9 grid:
- blobs: 12 Gaussian blobs of random sizes in the unit square;
- density: 25 Gaussian blobs whose weights and widths differ by orders of magnitude, some elongated,
  plus 3 % uniform background (the harder case: dense cores, sparse halos).
DPQ16 is measured against the 2-D points themselves (how well the grid keeps the map's neighbourhoods)
on the same fixed 4,000-point subsample for every method; "× lap" is DPQ16 over exact LAP's for the same
data and N. msd is the mean squared distance, in cells², between a point (stretched onto the grid) and its
cell centre. Seconds are the best of --repeats; methods run interleaved per data set, and the 1-min load
average is printed per row (the machine may be shared). Targets (issue 12): ``fast`` at 100k ≤ 10 s, at 4k
DPQ16 ≥ 0.98 × lap and ≥ rasterfairy.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from embed.core.grid import assign_grid, fit_to_grid, grid_shape
from embed.core.metrics import dpq, layout_metrics


def blobs(n: int, seed: int = 0, k: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1, (k, 2))
    spread = rng.uniform(0.02, 0.1, k)
    label = rng.integers(0, k, n)
    return centres[label] + rng.normal(0, 1, (n, 2)) * spread[label][:, None]


def density(n: int, seed: int = 0, k: int = 25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 0.4))
    centres = rng.uniform(0.1, 0.9, (k, 2))
    width = np.exp(rng.uniform(np.log(0.003), np.log(0.12), k))
    label = rng.choice(k, size=n - n // 33, p=weights)
    angle = rng.uniform(0, np.pi, k)[label]
    z = rng.normal(0, 1, (len(label), 2)) * np.stack([width[label], width[label] * rng.uniform(0.3, 1, k)[label]], 1)
    z = np.stack([np.cos(angle) * z[:, 0] - np.sin(angle) * z[:, 1], np.sin(angle) * z[:, 0] + np.cos(angle) * z[:, 1]], 1)
    return np.concatenate([centres[label] + z, rng.uniform(0, 1, (n // 33, 2))])


DATA = {"blobs": blobs, "density": density}


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[4000, 20000, 100000])
    parser.add_argument("--data", nargs="*", default=list(DATA), choices=list(DATA))
    parser.add_argument("--methods", nargs="*", default=["lap", "fast", "tiles", "rasterfairy"])
    parser.add_argument("--lap-max", type=int, default=4000, help="largest N to run exact lap on")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--metrics-n", type=int, default=0, help="N for a layout_metrics timing (0: skip)")
    args = parser.parse_args()

    print("| N | grid | data | method | load | wall s | CPU s | DPQ16 | × lap | msd cells² |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        cols, rows = grid_shape(n)
        for data in args.data:
            xy = DATA[data](n)
            stretched = fit_to_grid(xy, cols, rows)
            methods = [m for m in args.methods if m != "lap" or n <= args.lap_max]
            best: dict[str, tuple[float, float]] = {}
            cells = {}
            for _ in range(args.repeats):
                for method in methods:
                    wall, cpu = time.perf_counter(), cpu_seconds()
                    cells[method] = assign_grid(xy, cols, rows, method)
                    took = (time.perf_counter() - wall, cpu_seconds() - cpu)
                    best[method] = min(best.get(method, took), took)
            lap_quality = dpq(xy, cells["lap"], 16) if "lap" in cells else None
            for method in methods:
                quality = dpq(xy, cells[method], 16, max_points=4000, seed=0)
                msd = ((stretched - (cells[method] + 0.5)) ** 2).sum(axis=1).mean()
                ratio = f"{quality / lap_quality:.3f}" if lap_quality else "–"
                print(f"| {n:,} | {cols}×{rows} | {data} | {method} | {os.getloadavg()[0]:.1f} | {best[method][0]:.2f} "
                      f"| {best[method][1]:.2f} | {quality:.4f} | {ratio} | {msd:.1f} |", flush=True)

    if args.metrics_n:
        n = args.metrics_n
        rng = np.random.default_rng(1)
        xy = blobs(n, seed=1)
        features = np.concatenate([xy, rng.normal(0, 0.005, (n, 48))], axis=1)  # the map plus a little noise
        colours = np.concatenate([xy * 50, np.zeros((n, 1))], axis=1)
        cells = assign_grid(xy, *grid_shape(n), "fast")
        start = time.perf_counter()
        result = layout_metrics(features, colours, cells, xy)
        print(f"\nlayout_metrics, N={n:,}, 50-d features: {time.perf_counter() - start:.1f} s  "
              + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
