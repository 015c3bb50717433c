"""t-SNE as the pipeline calls it (embed/layouts.py: `Projection.fit` without standardising, then `tsne_2d`)
against bare `openTSNE.TSNE(n_jobs=-1)` on bench_tsne.py's clustered features, interleaved, each run in a
fresh subprocess. Target (issue 12): ≤ 1.1× bare.

    .venv/bin/python bench/bench_tsne_pipeline.py [--n 20000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

CHILD = r'''
import sys, time
import numpy as np
import embed  # the OpenMP wait policy, as in the pipeline
import openTSNE
from bench_tsne import clustered_features
from embed.reduce import Projection, tsne_2d
variant, n = sys.argv[1], int(sys.argv[2])
x = clustered_features(n, 50)
wall, cpu = time.time(), time.process_time()
if variant == "bare":
    openTSNE.TSNE(n_jobs=-1, random_state=0).fit(x.astype(np.float64))
else:
    tsne_2d(Projection.fit(x, pca_dims=50, seed=0).apply(x), seed=0, progress=False)
print(time.time() - wall, time.process_time() - cpu)
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    totals = {"bare": [0.0, 0.0], "pipeline": [0.0, 0.0]}
    print("| rep | variant | wall s | CPU s |\n|---|---|---|---|")
    for rep in range(1, args.repeats + 1):
        for variant in totals:
            out = subprocess.run([sys.executable, "-c", CHILD, variant, str(args.n)], capture_output=True, text=True,
                                 check=True, cwd=sys.path[0]).stdout.split()
            wall, cpu = float(out[-2]), float(out[-1])
            totals[variant][0] += wall
            totals[variant][1] += cpu
            print(f"| {rep} | {variant} | {wall:.1f} | {cpu:.1f} |", flush=True)
    (bare_wall, bare_cpu), (ours_wall, ours_cpu) = totals["bare"], totals["pipeline"]
    print(f"ratio pipeline / bare at N={args.n:,}: wall {ours_wall / bare_wall:.2f}×, CPU {ours_cpu / bare_cpu:.2f}×")


if __name__ == "__main__":
    main()
