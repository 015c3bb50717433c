"""Incremental runs: a cold build of N generated images, then the same build with 1 % more images added.

    nice .venv/bin/python bench/bench_incremental.py [--n 20000] [--add 0.01] [--features lab]
        [--work /tmp/bench_incremental] [--markdown]

Images are bench_embed.py's generated 256×192 JPEGs; each run is `embed.build.pipeline.run_build` in its own
subprocess (bench_embed.py's `_build` child), so "process s" includes starting Python and the imports.
Prints seconds per stage for both runs and the incremental run's share of the cold one (target, issue 12:
+1 % ≤ 10 % of cold at 20k with --features lab, ≤ 5 % at 100k), then what the incremental run kept: old
images on the same grid cell / within one cell per layout, the grid shape, atlas sheets reused, and the
layouts' metrics (the incremental run samples DPQ on 1,000 points and 10-NN on 250 queries).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
from bench_embed import ensure_images, format_table, remove_images_from, run_child

from layoutfile import layout_arrays, read_layout


def build(folder: Path, out_dir: Path, features: str, work: Path) -> dict:
    options = json.dumps({"images": str(folder), "output": str(out_dir / "layout.json"),
                          "cache": str(out_dir / "cache"), "quiet": True, "features": features, "weights": "random"})
    result, process_wall = run_child(["_build", str(work / "result.json"), options], work / "result.json",
                                     work / "build.log", {})
    result["process_wall"] = process_wall
    result["load"] = os.getloadavg()[0]
    return result


def kept_cells(before: dict, after: dict, name: str) -> tuple[float, float]:
    """Shares of the old images on the same cell and within one cell (king moves) after the run."""
    where = {image["id"]: i for i, image in enumerate(after["images"])}
    old = np.array([where[image["id"]] for image in before["images"]])
    moved = np.abs(layout_arrays(after, name)[1][old] - layout_arrays(before, name)[1]).max(axis=1)
    return float((moved == 0).mean()), float((moved <= 1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--add", type=float, default=0.01, help="share of new images in the second run")
    parser.add_argument("--features", choices=("cnn", "lab"), default="lab")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_incremental"))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    folder, out_dir = args.work / f"images_{args.n}", args.work / f"out_{args.n}"
    extra = math.ceil(args.n * args.add)
    args.work.mkdir(parents=True, exist_ok=True)
    if folder.exists():
        remove_images_from(folder, args.n)
    tick = time.perf_counter()
    ensure_images(folder, range(args.n))
    print(f"{args.n:,} images ready in {time.perf_counter() - tick:.1f} s; cores {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    (args.work / "build.log").unlink(missing_ok=True)

    cold = build(folder, out_dir, args.features, args.work)
    before = read_layout(out_dir / "layout.json")
    print(f"cold: {cold['wall']:.1f} s", flush=True)
    ensure_images(folder, range(args.n, args.n + extra))
    incremental = build(folder, out_dir, args.features, args.work)
    after = read_layout(out_dir / "layout.json")
    remove_images_from(folder, args.n)

    stages = list(dict.fromkeys([*cold["seconds"], *incremental["seconds"]]))
    rows = [[stage, f"{cold['seconds'].get(stage, 0):.2f}", f"{incremental['seconds'].get(stage, 0):.2f}",
             f"{100 * incremental['seconds'].get(stage, 0) / cold['wall']:.1f}"] for stage in stages]
    for label, key in (("run_build", "wall"), ("process (with start-up)", "process_wall")):
        rows.append([label, f"{cold[key]:.1f}", f"{incremental[key]:.1f}", f"{100 * incremental[key] / cold[key]:.1f}"])
    rows.append(["load at end", f"{cold['load']:.1f}", f"{incremental['load']:.1f}", ""])
    print(f"\n{args.n:,} images cold, then +{extra} ({args.add:.0%}), --features {args.features}:\n")
    print(format_table(["stage", "cold s", f"+{extra} s", "% of cold run_build"], rows, args.markdown))

    sheets_before = set(before["atlas"]["levels"][-1]["files"])
    sheets_after = after["atlas"]["levels"][-1]["files"]
    print(f"\ngrid {before['grid']['cols']}×{before['grid']['rows']} → {after['grid']['cols']}×{after['grid']['rows']}; "
          f"atlas sheets reused {sum(f in sheets_before for f in sheets_after)} of {len(sheets_after)}")
    rows = []
    for name in ("blur", "combined"):
        same, near = kept_cells(before, after, name)
        m0, m1 = before["layouts"][name]["metrics"], after["layouts"][name]["metrics"]
        rows.append([name, f"{same:.3f}", f"{near:.3f}", f"{m0['dpq16_grid']:.4f} / {m1['dpq16_grid']:.4f}",
                     f"{m0['knn10_grid']:.3f} / {m1['knn10_grid']:.3f}"])
    print(format_table(["layout", "old on same cell", "old within 1 cell", "DPQ16 grid cold / incr.",
                        "knn10 grid cold / incr."], rows, args.markdown))


if __name__ == "__main__":
    main()
