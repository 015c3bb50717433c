"""Re-laying out a cached collection with changed weights: no decoding, no network pass (asserted), timed.

    .venv/bin/python bench/bench_relayout.py FOLDER --cache CACHE [--weights 0.05,0.25]

The cache must already hold the folder's features (run `python -m embed FOLDER --cache CACHE` first). Each
weight is the colour blocks' total weight in the combined layout (default recipe: 0.10); the blur layout is
laid out too, as a build would. Prints the time of loading the cached features and of each lay-out.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import embed
import embed.decode.pil
import embed.network.models
from embed.core.recipe import Ingredient, LayoutRecipe, Recipe, default_recipe


def with_colour_weight(weight: float) -> Recipe:
    """The default recipe with the combined layout's colour blocks at total weight `weight`."""
    blur, combined = default_recipe().layouts
    colour = tuple(Ingredient("colour", i.blur, weight / 2, i.grid) for i in combined.ingredients if i.kind == "colour")
    return Recipe((blur, LayoutRecipe("combined", combined.label, (combined.ingredients[0], *colour))),
                  name=f"colour-{weight:g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--weights", default="0.05,0.25")
    args = parser.parse_args()

    def forbidden(*_, **__):
        raise AssertionError("an image was decoded or the network built: the cache does not hold the features")

    embed.decode.pil.open_image = forbidden       # every decode of the PIL path goes through it
    embed.network.models.CnnModel.load = forbidden        # the network is built only when a feature is missing
    started = time.perf_counter()
    collection = embed.extract_features(args.folder, default_recipe(), cache=args.cache, progress=False)
    print(f"{len(collection)} images: cached features loaded in {time.perf_counter() - started:.1f} s "
          f"(no decode, no network)")
    print("| combined colour weight | lay-out seconds (2 layouts) | combined colour ratio | combined category ratio |")
    print("|---|---|---|---|")
    for weight in (float(w) for w in args.weights.split(",")):
        started = time.perf_counter()
        layouts = embed.lay_out(collection.features, with_colour_weight(weight), embed.LayoutParams(progress=False))
        m = layouts["combined"].metrics
        print(f"| {weight:g} | {time.perf_counter() - started:.1f} | {m['colour_ratio']:.3f} | "
              f"{m.get('category_ratio', float('nan')):.2f} |")


if __name__ == "__main__":
    main()
