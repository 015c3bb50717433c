"""t-SNE: bare openTSNE against `embed.reduce.reduce_to_2d` on the same matrix: seconds, peak RSS, 10-NN
preservation. Target: reduce_to_2d ≤ 1.2× the bare time.

    nice .venv/bin/python bench/bench_tsne.py [--sizes 10000 100000] [--dim 50] [--jobs 2]

Features: N × dim synthetic clustered vectors (30 Gaussian clusters, seeded). bare is
`openTSNE.TSNE(n_jobs=jobs, random_state=0).fit(X)` (openTSNE's own defaults); ours is
`reduce_to_2d(X, n_jobs=jobs, seed=0, progress=False)` (standardise, PCA to 50 when dim > 50, explicit
neighbour and gradient methods). Every run is a fresh subprocess, so peak RSS (ru_maxrss) is its own;
"data MiB" is the RSS once the matrix exists.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def clustered_features(n: int, dim: int, seed: int = 0, k: int = 30) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (k, dim))
    return centres[rng.integers(0, k, n)] + rng.normal(0, 1, (n, dim))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(variant: str, n: int, dim: int, jobs: int) -> None:
    """One timed run; prints a JSON line for the parent."""
    from embed.metrics import knn_preservation

    x = clustered_features(n, dim)
    data_mib = _rss_mib()
    start = time.perf_counter()
    if variant == "bare":
        import openTSNE

        xy = np.asarray(openTSNE.TSNE(n_jobs=jobs, random_state=0).fit(x))
    else:
        from embed.reduce import reduce_to_2d

        xy = reduce_to_2d(x, n_jobs=jobs, seed=0, progress=False)
    seconds = time.perf_counter() - start
    peak = _rss_mib()
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "data_mib": data_mib,
                      "knn10": knn_preservation(x, xy, 10, max_queries=1000)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000])
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--child", nargs=4, metavar=("VARIANT", "N", "DIM", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, n, dim, jobs = args.child
        run_child(variant, int(n), int(dim), int(jobs))
        return

    print(f"| {'N':>7} | dim | jobs | {'variant':<12} | {'seconds':>7} | {'peak MiB':>8} | {'data MiB':>8} | knn10 |")
    print(f"|{'-' * 9}|-----|------|{'-' * 14}|{'-' * 9}|{'-' * 10}|{'-' * 10}|-------|")
    for n in args.sizes:
        seconds = {}
        for variant in ("bare", "reduce_to_2d"):
            out = subprocess.run([sys.executable, __file__, "--child", variant, str(n), str(args.dim), str(args.jobs)],
                                 check=True, capture_output=True, text=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            seconds[variant] = row["seconds"]
            print(f"| {n:>7,} | {args.dim:>3} | {args.jobs:>4} | {variant:<12} | {row['seconds']:>7.1f} | "
                  f"{row['peak_mib']:>8.0f} | {row['data_mib']:>8.0f} | {row['knn10']:.3f} |", flush=True)
        print(f"ratio reduce_to_2d / bare at N={n:,}: {seconds['reduce_to_2d'] / seconds['bare']:.2f}×", flush=True)


if __name__ == "__main__":
    main()
