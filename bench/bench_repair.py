"""Incremental grid repair on synthetic t-SNE-like maps: how many old images keep their cell, how near new
images land to their target, interior holes and time, for additions that fit and that grow the grid.

    nice .venv/bin/python bench/bench_repair.py [--sizes 3000 20000] [--shares 0.001 0.01 0.02]

A cold `fast` grid of a blobby map (tests/embed/test_grid.density_blobs) of N points, then
`embed.core.repair.repair_grid` with N × share more points of the same map. Old images are compared with
their cell after the inserted lines (if the grid grew), so 'same' counts the images the repair itself moved.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from embed.core.grid import assign_grid, fit_to_grid, grid_shape
from embed.core.holes import interior_holes
from embed.core.repair import _insert_positions, repair_grid
from tests.embed.test_grid import density_blobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 20000])
    parser.add_argument("--shares", type=float, nargs="+", default=[0.001, 0.01, 0.02])
    args = parser.parse_args()
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    print("| N | added | grid | old on same cell | within 1 | most cells | new → target, cells | interior holes | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        cols, rows = grid_shape(n)
        points = density_blobs(int(n * (1 + max(args.shares))) + 1, seed=3)
        cells = assign_grid(points[:n], cols, rows, "fast")
        for share in args.shares:
            m = max(1, int(n * share))
            targets = fit_to_grid(points[:n + m], cols, rows)[n:]
            start = time.perf_counter()
            repair = repair_grid(cells, targets, cols, rows, 16 / 9)
            seconds = time.perf_counter() - start
            at_cols = _insert_positions(targets[:, 0], repair.cols - cols, cols)
            at_rows = _insert_positions(targets[:, 1], repair.rows - rows, rows)
            shifted = cells + np.stack([np.searchsorted(at_cols, cells[:, 0], side="right"),
                                        np.searchsorted(at_rows, cells[:, 1], side="right")], axis=1)
            moved = np.abs(repair.cells[:n] - shifted).max(axis=1)
            grown_targets = fit_to_grid(points[:n + m], repair.cols, repair.rows)[n:]
            landed = np.abs(repair.cells[n:] + 0.5 - grown_targets).max(axis=1).mean()
            print(f"| {n:,} | {m} | {cols}×{rows} → {repair.cols}×{repair.rows} | {(moved == 0).mean():.3f} | "
                  f"{(moved <= 1).mean():.3f} | {moved.max()} | {landed:.2f} | "
                  f"{interior_holes(repair.cells, repair.cols, repair.rows)} | {seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
