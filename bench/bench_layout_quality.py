"""Layout quality on a labelled image folder: each layout's colour and category ratio beside a direct FLAS
colour sort of the same images on the same grid, the grid's interior holes and the mean flight length.

    nice .venv/bin/python bench/bench_layout_quality.py FOLDER [--labels TSV] [--cache DIR] [--recipe NAME|FILE]
                                                          [--seeds 0 1 2]

The layouts are made exactly as `run_build` makes a cold build's (embed.core.layouts.lay_out, default options and
recipe unless --recipe), once per seed; with several seeds each cell is the mean and, in brackets, the range.
Columns:
- colour: colour_ratio (mean ΔE of 4-neighbours' mean Lab colours ÷ random; lower = smoother);
- vs FLAS: that ÷ the colour ratio of the reference, FLAS (vc-flas) sorting the images' mean Lab colours
  directly on the same cols × rows grid, its empty cells at the grid's end (the target is ≤ 1.15);
- category: category_ratio (same-label 4-neighbours ÷ chance; higher = grouped);
- holes: empty cells inside the picture (embed.core.holes.interior_holes; with several seeds the most);
- flight: mean distance in cells an image flies from its t-SNE display position (as the sketch places it)
  to its grid cell's centre.
Labels are the images' top-level sub-folders, or a tab-separated table (`--labels`). Features are cached
under `--cache` (default out/bench_layout_quality/<folder name>/), so a re-run only lays out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from embed.build.extract import extract
from embed.core.fastgrid import flas_polish
from embed.core.holes import interior_holes
from embed.build.labels import folder_labels, table_labels
from embed.core.layouts import lay_out
from embed.core.metrics import category_metrics, mean_pairwise_distance, neighbour_colour_distance
from embed.options import BuildOptions
from embed.build.pipeline import feature_set
from embed.core.recipe import load_recipe
from embed.build.scan import scan_folder
from layoutfile import tsne_world


def flas_colour_sort(colours: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """(col, row) of every image when FLAS sorts their mean colours directly on the grid, row-major start,
    the empty cells at the end (frozen)."""
    n = len(colours)
    start = np.arange(n)
    flat = (start % cols) * rows + start // cols        # row-major reading order as flat col * rows + row
    cell = flas_polish(np.asarray(colours, dtype=np.float64), flat, cols, rows)
    return np.stack([cell // rows, cell % rows], axis=1)


def flight_length(display: np.ndarray, grid: np.ndarray, cols: int, rows: int) -> float:
    """Mean distance, in cells, from each image's t-SNE display position to its grid cell's centre."""
    return float(np.linalg.norm(tsne_world(display, cols, rows) - (np.asarray(grid) + 0.5), axis=1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="images, in one sub-folder per category unless --labels")
    parser.add_argument("--labels", type=Path, help="tab-separated labels: path relative to FOLDER, category")
    parser.add_argument("--cache", type=Path, help="feature cache (default out/bench_layout_quality/<folder name>)")
    parser.add_argument("--recipe", default="default", help="a preset name or a recipe TOML file (default: default)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="layout seeds (default 0)")
    args = parser.parse_args()
    recipe = load_recipe(args.recipe)
    cache = args.cache or Path("out/bench_layout_quality") / args.folder.resolve().name
    cache.mkdir(parents=True, exist_ok=True)
    options = BuildOptions(images=args.folder, quiet=True)
    records, _ = scan_folder(args.folder, progress=False, id_cache=cache / "scan.json")
    extracted = extract(records, cache, options.extract_options(recipe.levels("colour")))
    rels = [rec.rel for rec in extracted.records]
    labels = table_labels(args.labels, rels) if args.labels else folder_labels(rels)
    if labels is None:
        parser.error(f"{args.folder}: no labels (the images need two or more sub-folders, or use --labels)")
    features = feature_set(extracted, options.features)
    features.labels = labels
    colours = extracted.colours
    random = mean_pairwise_distance(colours)
    rows_by_layout: dict[str, list[tuple[float, float, float, int, float]]] = {}
    start = time.perf_counter()
    for seed in args.seeds:
        layouts = lay_out(features, recipe, replace(options.layout_params(), seed=seed))
        cols, rows = layouts.cols, layouts.rows
        for layout in layouts:
            grid = layout.grid
            colour = neighbour_colour_distance(grid, colours) / random
            rows_by_layout.setdefault(layout.name, []).append(
                (colour, category_metrics(grid, labels)["category_ratio"], interior_holes(grid, cols, rows),
                 flight_length(layout.display, grid, cols, rows)))
    layout_seconds = (time.perf_counter() - start) / len(args.seeds)
    start = time.perf_counter()
    reference = flas_colour_sort(colours, cols, rows)
    flas_seconds = time.perf_counter() - start
    flas_ratio = neighbour_colour_distance(reference, colours) / random
    print(f"{args.folder}: {len(colours)} images, {len(set(labels))} categories, grid {cols}×{rows}; seeds "
          f"{' '.join(map(str, args.seeds))}; layouts and metrics {layout_seconds:.0f} s a seed, FLAS sort {flas_seconds:.1f} s; "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    print("| layout | colour | vs FLAS | category | interior holes | flight, cells |")
    print("|---|---|---|---|---|---|")
    for name, runs in rows_by_layout.items():
        colour, category, holes, flight = zip(*runs)
        vs_flas = [c / flas_ratio for c in colour]
        print(f"| {name} | {spread(colour, 3)} | {spread(vs_flas, 2)}× | {spread(category, 2)} | {max(holes)} | "
              f"{spread(flight, 2)} |")
    print(f"| FLAS colour sort | {flas_ratio:.3f} | 1.00× | {category_metrics(reference, labels)['category_ratio']:.2f} "
          f"| {interior_holes(reference, cols, rows)} | – |")


def spread(values, digits: int) -> str:
    """The mean of `values`, and their range in brackets when there are several."""
    mean = f"{statistics.fmean(values):.{digits}f}"
    return mean if len(values) == 1 else f"{mean} ({min(values):.{digits}f}–{max(values):.{digits}f})"


if __name__ == "__main__":
    main()
