"""The main job: a folder of images → blur and combined layouts → layout JSON + atlases."""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from embed.combine import blur_layout_levels, layout_features
from embed.errors import UserError
from embed.extract import extract
from embed.grid import assign_grid, grid_shape
from embed.layout_file import LayoutFileError, build_layout, read_layout, write_layout
from embed.metrics import layout_metrics
from embed.models import check_weights
from embed.reduce import normalise_unit, procrustes_align, reduce_to_2d
from embed.scan import scan_folder
from embed.thumbs import write_atlases

LABELS = {"blur": "Blur only", "combined": "Original + blur"}


@dataclass
class StageTimer:
    """Wall-clock seconds per named stage, in the order run."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def default_output(images: Path) -> Path:
    """out/<folder name>.json in the current directory."""
    return Path("out") / f"{images.resolve().name or 'layout'}.json"


def run_build(args: argparse.Namespace) -> dict:
    """Run every stage for parsed CLI `args`; write the JSON; print and return a summary."""
    timer = StageTimer()
    source = args.images.resolve()
    output = (args.output or default_output(args.images)).resolve()
    if output.suffix.lower() != ".json":
        raise UserError(f"{output}: the output must be a .json file")
    cache_dir = (args.cache or output.parent / ".cache").resolve()
    blur_levels = sorted(set(args.blur) | {0.0})
    blur_only = blur_layout_levels([r for r in blur_levels if r > 0] or blur_levels, args.blur_layout)
    progress = not args.quiet
    weights_tag = check_weights(args.model, args.weights, seed=args.seed) if args.features == "cnn" else "none"

    with timer.stage("scan"):
        records, skipped = scan_folder(source, progress=progress)
    fingerprint = inputs_fingerprint(records, args, weights_tag)
    if layout_is_current(output, fingerprint):
        print(f"{output} is up to date ({len(records)} images, same files and options): nothing to do")
        return {"output": output, "images": len(records), "skipped": [], "seconds": timer.seconds,
                "computed": 0, "cached": len(records), "metrics": {}, "up_to_date": True}
    with timer.stage("decode+features"):
        extracted = extract(records, cache_dir=cache_dir, model_name=args.model, weights=args.weights,
                            blur_radii=tuple(blur_levels), thumb_size=max(args.atlas_cells), fit=args.fit,
                            device=args.device, batch_size=args.batch_size, workers=args.workers, seed=args.seed,
                            kind=args.features, progress=progress)
    skipped = [{"path": s.path, "reason": s.reason} for s in skipped]
    skipped += [{"path": rel, "reason": reason} for rel, reason in extracted.failed]
    kept = extracted.records
    n = len(kept)
    if n == 0:
        raise UserError(f"{source}: no readable images (skipped {len(skipped)})")

    with timer.stage("atlas"):
        levels, sheets, cells = write_atlases(extracted.thumbs, output.parent, rel_prefix=f"{output.stem}_atlas",
                                              cell_sizes=tuple(sorted(args.atlas_cells)), progress=progress)
    cols, rows = grid_shape(n, args.aspect)
    features = layout_features(extracted.features, blur_only)
    layouts: dict[str, dict] = {}
    for name in ("blur", "combined"):
        with timer.stage(f"tsne:{name}"):
            xy = reduce_to_2d(features[name], perplexity=args.perplexity, seed=args.seed,
                              pca_dims=args.pca_dims, standardise=False, progress=progress)
            if name == "combined":
                xy = procrustes_align(xy, layouts["blur"]["_xy"])
            tsne = normalise_unit(xy)
        with timer.stage(f"grid:{name}"):
            grid = assign_grid(tsne, cols, rows, method=args.grid)
        with timer.stage(f"metrics:{name}"):
            metrics = layout_metrics(features[name], extracted.colours, grid, tsne)
        layouts[name] = {"label": LABELS[name], "tsne": tsne, "grid": grid, "metrics": metrics, "_xy": xy}

    params = {
        "source": str(source), "features": args.features, "model": args.model if args.features == "cnn" else None,
        "weights": extracted.weights_tag, "blur_radii": blur_levels, "blur_layout_radii": blur_only,
        "perplexity": args.perplexity, "seed": args.seed, "pca_dims": args.pca_dims, "grid_method": args.grid,
        "aspect": round(args.aspect, 6), "fit": args.fit, "atlas_cells": sorted(args.atlas_cells),
        "fingerprint": fingerprint,
    }
    images = [{"id": r.id, "path": r.rel, "width": r.width, "height": r.height,
               "atlas_sheet": int(s), "atlas_cell": int(c)} for r, s, c in zip(kept, sheets, cells)]
    doc = build_layout(params=params, atlas_levels=levels, images=images, cols=cols, rows=rows,
                       layouts={k: {key: v for key, v in lay.items() if key != "_xy"} for k, lay in layouts.items()},
                       skipped=skipped)
    with timer.stage("write"):
        write_layout(output, doc)
    summary = {"output": output, "images": n, "skipped": skipped, "seconds": timer.seconds,
               "computed": extracted.stats.get("computed", n), "cached": extracted.stats.get("cached", 0),
               "metrics": {k: v["metrics"] for k, v in layouts.items()}}
    print_summary(summary)
    return summary


def inputs_fingerprint(records: list, args: argparse.Namespace, weights_tag: str) -> str:
    """Hash of everything a layout depends on: the images (ids, paths, order) and every layout option."""
    options = {key: getattr(args, key) for key in ("features", "model", "blur", "blur_layout", "perplexity", "seed",
                                                    "pca_dims", "grid", "aspect", "fit", "atlas_cells")}
    text = json.dumps([options, weights_tag, [(r.id, r.rel) for r in records]], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def layout_is_current(output: Path, fingerprint: str) -> bool:
    """True when `output` is a valid layout made from the same inputs and its atlas files are all there."""
    if not output.is_file():
        return False
    try:
        doc = read_layout(output)
    except LayoutFileError:
        return False
    atlas_files = [output.parent / f for level in doc["atlas"]["levels"] for f in level["files"]]
    return doc["params"].get("fingerprint") == fingerprint and all(f.is_file() for f in atlas_files)


def print_summary(summary: dict) -> None:
    """What a user wants to see after a run: counts, skipped files, time per stage, where the JSON went."""
    n = summary["images"]
    print(f"\n{n} images laid out ({summary['computed']} computed, {summary['cached']} from cache), "
          f"{len(summary['skipped'])} skipped")
    for item in summary["skipped"][:20]:
        print(f"  skipped {item['path']}: {item['reason']}")
    if len(summary["skipped"]) > 20:
        print(f"  … and {len(summary['skipped']) - 20} more (all listed in the JSON's 'skipped')")
    total = sum(summary["seconds"].values())
    print("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in summary["seconds"].items()) + f"; total {total:.1f}s")
    for name, metrics in summary["metrics"].items():
        print(f"{name}: " + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in metrics.items()))
    print(f"wrote {summary['output']}")
