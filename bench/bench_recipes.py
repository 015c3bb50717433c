"""Feature recipes on a labelled image folder: how colour-smooth the blur layout is, how well the combined
layout groups categories, and how many network passes each recipe costs.

    nice .venv/bin/python bench/bench_recipes.py FOLDER [--labels TSV] [--rows ...] [--cache DIR]

Labels are the images' top-level sub-folders, or a tab-separated table (`--labels`: a header, then the
path relative to FOLDER and a 'category' column). Per recipe, both layouts are made exactly as `run_build`
makes them (embed.core.layouts.lay_out: t-SNE with the default options, orientation, grid, metrics) and
the table shows colour_ratio (lower = smoother) and category_ratio (higher = categories grouped) of each.
Network passes are counted per image in 224-px equivalents (a 112-px pass is 0.25).

Rows:
- `default`: the shipped recipe (embed.core.recipe.default_recipe) with the default model, EfficientNet-Lite0.
- `lab`: the shipped recipe with `--features lab` (no network).
- `resnet18-random`: the shipped recipe with a randomly initialised resnet18 (`--weights random`).
- `legacy-resnet18-random`, `legacy-lite0`, `legacy-lab`: the recipe before issue 8, with that model: the
  network (or the 8×8 Lab grid) on the original and on blurred copies (levels 0, 2, 8, 32 at 224, 224, 112,
  112 px); every level z-scored; blur layout = levels 8 and 32; combined = the original (weight 1) + the
  blurred levels (1/3 each). Its level-0 features are the shipped extraction's.
Features are cached under `--cache` (default out/bench_recipes/<folder name>/), so a re-run only lays out.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from embed.decode.blur import blur_square
from embed.build.extract import Extracted, extract
from embed.build.labels import folder_labels, table_labels
from embed.core.featureset import FeatureSet
from embed.core.layouts import lay_out
from embed.core.recipe import Ingredient, LayoutRecipe, Recipe, default_recipe
from embed.network.models import LAB_GRID, cnn_model, lab_grid
from embed.options import DEFAULT_MODEL, ExtractOptions, LayoutParams
from embed.build.scan import scan_folder
from embed.image.file import open_image
from embed.image.square import square_thumbnail, thumb_source_side

LEGACY_LEVELS = {2.0: 224, 8.0: 112, 32.0: 112}   # blurred levels of the old recipe and their input sides
LEGACY_PASSES = 1 + sum((side / 224) ** 2 for side in LEGACY_LEVELS.values())   # 2.5
SHIPPED = {"default": ("cnn", DEFAULT_MODEL, "default"), "lab": ("lab", DEFAULT_MODEL, "default"),
           "resnet18-random": ("cnn", "resnet18", "random")}
LEGACY = {"legacy-resnet18-random": "resnet18-random", "legacy-lite0": "default", "legacy-lab": "lab"}
ROWS = ["legacy-resnet18-random", "legacy-lite0", "legacy-lab", "resnet18-random", "lab", "default"]


def shipped_features(records, cache: Path, row: str) -> Extracted:
    """The shipped extraction of `row`'s model (features of the original, colour blocks, mean colours)."""
    kind, model, weights = SHIPPED[row]
    return extract(records, cache, ExtractOptions(kind=kind, model=model, weights=weights, progress=False))


def legacy_level_features(records, cache: Path, row: str) -> dict[float, np.ndarray]:
    """Features of the blurred levels of the old recipe for `row`'s model, computed once and cached as .npy."""
    kind, model, weights = SHIPPED[LEGACY[row]]
    files = {r: cache / f"legacy_{row}_r{r:g}.npy" for r in LEGACY_LEVELS}
    ids_file = cache / f"legacy_{row}_ids.txt"
    ids = "\n".join(rec.id for rec in records)
    if ids_file.exists() and ids_file.read_text() == ids and all(f.exists() for f in files.values()):
        return {r: np.load(f) for r, f in files.items()}
    if kind == "lab":
        nets = {side: (lambda batch: lab_grid(batch, LAB_GRID)) for side in set(LEGACY_LEVELS.values())}
        sides = {r: 32 for r in LEGACY_LEVELS}
    else:   # a packaged model is built for its input side (its "same" padding depends on it)
        spec = cnn_model(model, weights)
        nets = {side: replace(spec, base_size=side).load(torch.device("cpu")) for side in set(LEGACY_LEVELS.values())}
        sides = LEGACY_LEVELS
    out: dict[float, list[np.ndarray]] = {r: [] for r in LEGACY_LEVELS}
    for start in range(0, len(records), 32):
        squares = [square_thumbnail(open_image(rec.path, max_side=thumb_source_side(rec.width, rec.height, 224)), 224)
                   for rec in records[start:start + 32]]
        for r, side in sides.items():
            net = nets[LEGACY_LEVELS[r]]
            out[r].append(net(np.stack([blur_square(sq, r, side) for sq in squares])))
    result = {r: np.concatenate(parts) for r, parts in out.items()}
    for r, f in files.items():
        np.save(f, result[r])
    ids_file.write_text(ids)
    return result


def zscored_block(block: np.ndarray, weight: float) -> np.ndarray:
    """The old recipe's block scaling: z-score each column, then scale to a summed variance of `weight`."""
    centred = block - block.mean(axis=0)
    std = centred.std(axis=0)
    z = centred / np.where(std > 1e-12, std, 1.0)
    return (z * np.sqrt(weight / max(int((std > 1e-12).sum()), 1))).astype(np.float32)


def legacy_layout_features(levels: dict[float, np.ndarray]) -> dict[str, np.ndarray]:
    """The old recipe's blur and combined matrices from per-level features (level 0 = the original)."""
    blurred = [r for r in sorted(levels) if r > 0]
    heavy = [r for r in blurred if r >= 8]
    return {"blur": np.concatenate([zscored_block(levels[r], 1 / len(heavy)) for r in heavy], axis=1),
            "combined": np.concatenate([zscored_block(levels[0.0], 1.0)]
                                       + [zscored_block(levels[r], 1 / len(blurred)) for r in blurred], axis=1)}


# The old recipe's two matrices, laid out as they are: each one a "network" block of its own (scaling a whole
# matrix uniformly changes no t-SNE neighbourhood).
PRESCALED = Recipe((LayoutRecipe("blur", "blur", (Ingredient("network", 0.0),)),
                    LayoutRecipe("combined", "combined", (Ingredient("network", 1.0),))), name="legacy")


def measure(row: str, records, labels: list[str], cache: Path) -> dict:
    """Both layouts of one recipe, as run_build makes them; their metrics, the passes and the seconds taken."""
    start = time.perf_counter()
    base = shipped_features(records, cache, LEGACY.get(row, row))
    if row in LEGACY:
        matrices = legacy_layout_features({0.0: base.features, **legacy_level_features(records, cache, row)})
        features = FeatureSet({0.0: matrices["blur"], 1.0: matrices["combined"]}, {}, base.colours, labels, "matrix")
        recipe, passes = PRESCALED, 0.0 if row == "legacy-lab" else LEGACY_PASSES
    else:
        features = FeatureSet({0.0: base.features}, base.colour_blocks, base.colours, labels, SHIPPED[row][0])
        recipe, passes = default_recipe(), 0.0 if row == "lab" else 1.0
    assert [rec.id for rec in base.records] == [rec.id for rec in records], "an image failed to decode"
    layouts = lay_out(features, recipe, LayoutParams(progress=False))
    return {"row": row, "passes": passes, "seconds": time.perf_counter() - start,
            **{f"{layout.name}_{key}": layout.metrics[key] for layout in layouts
               for key in ("colour_ratio", "category_ratio")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="images, in one sub-folder per category unless --labels")
    parser.add_argument("--labels", type=Path, help="tab-separated labels: path relative to FOLDER, category")
    parser.add_argument("--rows", nargs="+", choices=ROWS, default=ROWS, help="recipes to measure (default all)")
    parser.add_argument("--cache", type=Path, help="feature cache (default out/bench_recipes/<folder name>)")
    args = parser.parse_args()
    cache = args.cache or Path("out/bench_recipes") / args.folder.resolve().name
    cache.mkdir(parents=True, exist_ok=True)
    records, _ = scan_folder(args.folder, progress=False, id_cache=cache / "scan.json")
    rels = [rec.rel for rec in records]
    labels = table_labels(args.labels, rels) if args.labels else folder_labels(rels)
    if labels is None:
        parser.error(f"{args.folder}: no labels (the images need two or more sub-folders, or use --labels)")
    print(f"{args.folder}: {len(records)} images, {len(set(labels))} categories, "
          f"torch threads {torch.get_num_threads()}", flush=True)
    results = [measure(row, records, labels, cache) for row in args.rows]
    print("\n| recipe | blur colour | blur category | combined colour | combined category | network passes | s |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['row']} | {r['blur_colour_ratio']:.3f} | {r['blur_category_ratio']:.2f} | "
              f"{r['combined_colour_ratio']:.3f} | {r['combined_category_ratio']:.2f} | {r['passes']:g} | "
              f"{r['seconds']:.0f} |")


if __name__ == "__main__":
    main()
