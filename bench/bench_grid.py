"""Grid assignment: seconds, DPQ16 and mean squared displacement per method and N; layout_metrics time.

    nice .venv/bin/python bench/bench_grid.py [--sizes 1000 4000 10000 100000] [--lap-max 4000]

Points: synthetic clustered 2-D clouds (12 Gaussian blobs of random sizes, like a t-SNE map), placed
on the `grid_shape(N)` 16:9 grid. DPQ16 is measured against the 2-D points themselves (how well the
grid keeps the t-SNE neighbourhoods) on the same fixed 4,000-point subsample for every method; msd is
the mean squared distance, in cells², between a point (stretched onto the grid) and its cell centre.
Targets: `tiles` 100k ≤ 60 s with DPQ16 ≥ rasterfairy's; at 4k DPQ16 within 2 % of `lap`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from embed.grid import _fit_to_grid, assign_grid, grid_shape
from embed.metrics import dpq, layout_metrics


def clustered_points(n: int, seed: int = 0, k: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1, (k, 2))
    spread = rng.uniform(0.02, 0.1, k)
    label = rng.integers(0, k, n)
    return centres[label] + rng.normal(0, 1, (n, 2)) * spread[label][:, None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 4000, 10000, 100000])
    parser.add_argument("--lap-max", type=int, default=4000, help="largest N to run exact lap on")
    parser.add_argument("--metrics-n", type=int, default=100000, help="N for the layout_metrics timing (0: skip)")
    args = parser.parse_args()

    print(f"| {'N':>7} | {'grid':>9} | {'method':<11} | {'seconds':>7} | {'DPQ16':>6} | {'msd cells²':>10} |")
    print(f"|{'-' * 9}|{'-' * 11}|{'-' * 13}|{'-' * 9}|{'-' * 8}|{'-' * 12}|")
    for n in args.sizes:
        xy = clustered_points(n)
        cols, rows = grid_shape(n)
        stretched = _fit_to_grid(xy, cols, rows)
        methods = (["lap"] if n <= args.lap_max else []) + ["tiles", "rasterfairy"]
        for method in methods:
            start = time.perf_counter()
            cells = assign_grid(xy, cols, rows, method)
            seconds = time.perf_counter() - start
            quality = dpq(xy, cells, 16, max_points=4000, seed=0)
            msd = ((stretched - (cells + 0.5)) ** 2).sum(axis=1).mean()
            print(f"| {n:>7,} | {cols:>4}×{rows:<4} | {method:<11} | {seconds:>7.2f} | {quality:>6.4f} | {msd:>10.1f} |",
                  flush=True)

    if args.metrics_n:
        n = args.metrics_n
        rng = np.random.default_rng(1)
        xy = clustered_points(n, seed=1)
        features = np.concatenate([xy, rng.normal(0, 0.005, (n, 48))], axis=1)  # the map plus a little noise
        colours = np.concatenate([xy * 50, np.zeros((n, 1))], axis=1)
        cells = assign_grid(xy, *grid_shape(n), "tiles")
        start = time.perf_counter()
        result = layout_metrics(features, colours, cells, xy)
        print(f"\nlayout_metrics, N={n:,}, 50-d features: {time.perf_counter() - start:.1f} s  "
              + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
