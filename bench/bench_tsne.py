"""t-SNE: bare openTSNE against `embed.core.reduce.reduce_to_2d` on the same matrix: wall and CPU seconds, peak
RSS, 10-NN preservation. Target (issue 12): reduce_to_2d ≤ 1.1× the bare time on the same machine.

    nice .venv/bin/python bench/bench_tsne.py [--sizes 20000 100000] [--dim 50] [--jobs -1] [--repeats 1]
        [--policy auto|PASSIVE|ACTIVE] [--variants reduce_to_2d pipeline]

Features: N × dim synthetic clustered vectors (30 Gaussian clusters, seeded). bare is
`openTSNE.TSNE(n_jobs=jobs, random_state=0).fit(X)` (openTSNE's own defaults); ours is
`reduce_to_2d(X, n_jobs=jobs, seed=0, progress=False)` (standardise, PCA to 50 when dim > 50, explicit
neighbour and gradient methods); pipeline is the call embed/core/layouts.py makes (`Projection.fit` centres
without standardising, then `tsne_2d`). Every run is a fresh subprocess, so peak RSS (ru_maxrss) is its own;
"data MiB" is the RSS once the matrix exists. Every variant imports embed first, so all run under the
OpenMP wait policy embed/threads.py picks for this machine ("auto"), or under the one --policy names; each
row prints the policy in effect, the usable cores and the 1-min load average at its start. Variants run
interleaved per repeat; the ratio line compares the sums over repeats.
"""

from __future__ import annotations

import argparse
import json
import os
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


OURS = ("reduce_to_2d", "pipeline")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_child(variant: str, n: int, dim: int, jobs: int) -> None:
    """One timed run; prints a JSON line for the parent."""
    from embed.core.metrics import knn_preservation
    from embed.threads import usable_cores

    x = clustered_features(n, dim)
    data_mib = _rss_mib()
    start, cpu = time.perf_counter(), _cpu_seconds()
    if variant == "bare":
        import openTSNE

        xy = np.asarray(openTSNE.TSNE(n_jobs=jobs, random_state=0).fit(x))
    elif variant == "reduce_to_2d":
        from embed.core.reduce import reduce_to_2d

        xy = reduce_to_2d(x, n_jobs=jobs, seed=0, progress=False)
    else:  # "pipeline": as embed/core/layouts.py calls it (centred, not standardised)
        from embed.core.reduce import Projection, tsne_2d

        xy = tsne_2d(Projection.fit(x, pca_dims=50, seed=0).apply(x), n_jobs=jobs, seed=0, progress=False)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    peak = _rss_mib()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mib": peak, "data_mib": data_mib,
                      "policy": os.environ.get("OMP_WAIT_POLICY", "default"), "cores": usable_cores(),
                      "knn10": knn_preservation(x, xy, 10, max_queries=1000)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000])
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=-1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--variants", nargs="+", choices=OURS, default=["reduce_to_2d"],
                        help="our calls to time against bare openTSNE (pipeline: as embed/core/layouts.py calls it)")
    parser.add_argument("--policy", default="auto", help="OMP_WAIT_POLICY for the children (auto: embed's rule)")
    parser.add_argument("--child", nargs=4, metavar=("VARIANT", "N", "DIM", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, n, dim, jobs = args.child
        run_child(variant, int(n), int(dim), int(jobs))
        return

    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if args.policy != "auto":
        env["OMP_WAIT_POLICY"] = args.policy
    print("| N | dim | jobs | cores | policy | variant | rep | load | wall s | CPU s | peak MiB | data MiB | knn10 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        totals = {variant: [0.0, 0.0] for variant in ["bare", *args.variants]}
        for rep in range(1, args.repeats + 1):
            for variant in totals:
                load = os.getloadavg()[0]
                out = subprocess.run([sys.executable, __file__, "--child", variant, str(n), str(args.dim),
                                      str(args.jobs)], check=True, capture_output=True, text=True, env=env).stdout
                row = json.loads(out.strip().splitlines()[-1])
                totals[variant][0] += row["seconds"]
                totals[variant][1] += row["cpu"]
                print(f"| {n:,} | {args.dim} | {args.jobs} | {row['cores']} | {row['policy']} | {variant} | {rep} "
                      f"| {load:.1f} | {row['seconds']:.1f} | {row['cpu']:.1f} | {row['peak_mib']:.0f} "
                      f"| {row['data_mib']:.0f} | {row['knn10']:.3f} |", flush=True)
        bare_wall, bare_cpu = totals["bare"]
        for variant in args.variants:
            ours_wall, ours_cpu = totals[variant]
            print(f"ratio {variant} / bare at N={n:,}: wall {ours_wall / bare_wall:.2f}×, "
                  f"CPU {ours_cpu / bare_cpu:.2f}×", flush=True)


if __name__ == "__main__":
    main()
