"""The colour ⇄ objects dial on a labelled folder: per stop, its mix, colour ratio, category ratio and the change
from the stop before, over several seeds (mean and spread), plus any preset recipes side by side.

    .venv/bin/python bench/bench_dial.py FOLDER --stops 5 --seeds 0,1,2 --recipes original --posters out/dial \
        --positions 0,0.25,0.5,0.75,1

Labels are the images' top-level sub-folders. Features are extracted once into --cache (then re-used: each
further recipe or seed only lays out again, and the time of that is printed too).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

import embed
from embed.core.recipe import Recipe


def table_rows(collection, recipe: Recipe, seeds: list[int]) -> tuple[list[str], float]:
    """Markdown rows (one per layout) of `recipe` laid out with every seed; the mean seconds per lay-out."""
    runs, seconds = [], []
    for seed in seeds:
        started = time.perf_counter()
        runs.append(embed.lay_out(collection.features, recipe, embed.LayoutParams(seed=seed, progress=False)))
        seconds.append(time.perf_counter() - started)
    rows = []
    for name in runs[0].names:
        metrics = [run[name].metrics for run in runs]

        def cell(key: str, digits: int) -> str:
            values = [m[key] for m in metrics if key in m]
            if not values:
                return "–"
            return f"{np.mean(values):.{digits}f} ± {np.ptp(values) / 2:.{digits}f}" if len(values) > 1 \
                else f"{values[0]:.{digits}f}"

        share = runs[0][name].recipe.colour_share()
        rows.append(f"| {recipe.name} | {name} | {cell('dial_position', 3)} | {share:.3f} | {cell('colour_ratio', 3)} "
                    f"| {cell('category_ratio', 2)} | {cell('change_from_previous', 2)} |")
    return rows, float(np.mean(seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="labelled images: one sub-folder per category")
    parser.add_argument("--stops", type=int, default=5)
    parser.add_argument("--seeds", default="0", help="comma-separated t-SNE seeds (default 0)")
    parser.add_argument("--positions", default="",
                        help="also a dial at these comma-separated positions (e.g. 0,0.25,0.5,0.75,1: evenly spaced)")
    parser.add_argument("--recipes", default="", help="comma-separated presets or files to add, e.g. original")
    parser.add_argument("--cache", type=Path, default=Path("out/.cache-bench-dial"))
    parser.add_argument("--posters", type=Path, help="write a grid poster of every layout (seed 0) here")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    recipes = [embed.dial(args.stops)] + [embed.load_recipe(r) for r in args.recipes.split(",") if r]
    if args.positions:
        positions = [float(p) for p in args.positions.split(",")]
        recipes.append(dataclasses.replace(embed.dial(len(positions), positions=positions), name="dial-at-positions"))
    needs = {"colour": set(), "network": set()}
    for recipe in recipes:
        for kind in needs:
            needs[kind] |= set(recipe.levels(kind))

    started = time.perf_counter()
    union = Recipe(tuple(layout for recipe in recipes for layout in recipe.layouts))
    collection = embed.extract_features(args.folder, union, cache=args.cache, progress=False)
    print(f"{args.folder}: {len(collection)} images, features ready in {time.perf_counter() - started:.1f} s "
          f"(network levels {sorted(needs['network'])}, colour levels {sorted(needs['colour'])})")
    print(f"\n| recipe | layout | dial position | colour share of the weights | colour ratio | category ratio "
          f"| change from previous |\n|---|---|---|---|---|---|---|")
    print("<!-- each cell: mean ± half the range over the seeds -->")
    for recipe in recipes:
        rows, seconds = table_rows(collection, recipe, seeds)
        print("\n".join(rows))
        print(f"<!-- {recipe.name}: {seconds:.1f} s per lay-out of {len(recipe.layouts)} layouts -->")
        if args.posters:
            args.posters.mkdir(parents=True, exist_ok=True)
            layouts = embed.lay_out(collection.features, recipe, embed.LayoutParams(seed=seeds[0], progress=False))
            for layout in layouts:
                embed.poster(layouts, layout.name, collection.thumbs, cell_px=24).save(
                    args.posters / f"{recipe.name}-{layout.name}.png")


if __name__ == "__main__":
    main()
