"""The main job: a folder of images → blur and combined layouts → layout JSON + atlases."""

from __future__ import annotations

import argparse
import hashlib
import os
import json
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embed import __version__
from embed.combine import blur_layout_levels, layout_features
from embed.extract import extract
from embed.grid import assign_grid, grid_shape
from embed.metrics import layout_metrics
from embed.models import check_weights
from embed.reduce import normalise_unit, procrustes_align, reduce_to_2d
from embed.scan import scan_folder
from embed.thumbs import atlas_order, write_atlases
from layoutfile import LayoutFileError, UserError, atomic_path, build_layout, read_layout, write_layout

LABELS = {"blur": "Blur only", "combined": "Original + blur"}
MIN_KNOWN_SHARE = 0.5  # continue the saved map when at least this share of the images has a saved position


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
        records, skipped = scan_folder(source, progress=progress, id_cache=cache_dir / "scan.json")
    fingerprint = inputs_fingerprint(records, args, weights_tag)
    if not args.fresh and layout_is_current(output, fingerprint):
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

    cols, rows = grid_shape(n, args.aspect)
    features = layout_features(extracted.features, blur_only)
    ids = [r.id for r in kept]
    positions_file = saved_positions_path(cache_dir, output)
    options = options_fingerprint(args, weights_tag)
    saved = None if args.fresh else load_positions(positions_file, options, ids)
    layouts: dict[str, dict] = {}
    for name in ("blur", "combined"):
        with timer.stage(f"tsne:{name}"):
            xy = reduce_to_2d(features[name], perplexity=args.perplexity, seed=args.seed,
                              pca_dims=args.pca_dims, standardise=False, progress=progress,
                              init=None if saved is None else saved[name])
            if name == "combined":
                xy = procrustes_align(xy, layouts["blur"]["_xy"])
            tsne = normalise_unit(xy)
        with timer.stage(f"grid:{name}"):
            grid = assign_grid(tsne, cols, rows, method=args.grid)
        with timer.stage(f"metrics:{name}"):
            metrics = layout_metrics(features[name], extracted.colours, grid, tsne)
        layouts[name] = {"label": LABELS[name], "tsne": tsne, "grid": grid, "metrics": metrics, "_xy": xy}
    with timer.stage("atlas"):  # blur-grid neighbours share a sheet, so a zoomed-in view reads few sheets
        levels, sheets, cells = write_atlases(extracted.thumbs, output.parent, rel_prefix=f"{output.stem}_atlas",
                                              cell_sizes=tuple(sorted(args.atlas_cells)),
                                              order=atlas_order(layouts["blur"]["grid"]), progress=progress)

    params = {
        "source": Path(os.path.relpath(source, output.parent)).as_posix(),  # relative: move both together
        "features": args.features, "model": args.model if args.features == "cnn" else None,
        "weights": extracted.weights_tag, "blur_radii": blur_levels, "blur_layout_radii": blur_only,
        "perplexity": args.perplexity, "seed": args.seed, "pca_dims": args.pca_dims, "grid_method": args.grid,
        "aspect": round(args.aspect, 6), "fit": args.fit, "atlas_cells": sorted(args.atlas_cells),
        "fingerprint": fingerprint,
    }
    images = [{"id": r.id, "path": r.rel, "width": r.width, "height": r.height,
               "atlas_sheet": int(s), "atlas_cell": int(c)} for r, s, c in zip(kept, sheets, cells)]
    doc = build_layout(generator_version=__version__, params=params, atlas_levels=levels, images=images, cols=cols, rows=rows,
                       layouts={k: {key: v for key, v in lay.items() if key != "_xy"} for k, lay in layouts.items()},
                       skipped=skipped)
    with timer.stage("write"):
        save_positions(positions_file, options, ids, {k: lay["_xy"] for k, lay in layouts.items()})
        write_layout(output, doc)
    new = 0 if saved is None else int(np.isnan(saved["blur"][:, 0]).sum())
    summary = {"output": output, "images": n, "skipped": skipped, "seconds": timer.seconds,
               "computed": extracted.stats.get("computed", n), "cached": extracted.stats.get("cached", 0),
               "tsne": "from scratch" if saved is None else f"incremental, {new} new of {n}",
               "metrics": {k: v["metrics"] for k, v in layouts.items()}}
    print_summary(summary)
    return summary


def _layout_options(args: argparse.Namespace, weights_tag: str) -> list:
    """Every option a layout depends on, the network weights' tag and the program version (a new version
    may lay out or pack the atlas differently, so its first run is never taken as up to date)."""
    options = {key: getattr(args, key) for key in ("features", "model", "blur", "blur_layout", "perplexity", "seed",
                                                    "pca_dims", "grid", "aspect", "fit", "atlas_cells")}
    return [options, weights_tag, __version__]


def _hash(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def options_fingerprint(args: argparse.Namespace, weights_tag: str) -> str:
    """Hash of every layout option (not the images): saved t-SNE positions are reused only under the same one."""
    return _hash(_layout_options(args, weights_tag))


def inputs_fingerprint(records: list, args: argparse.Namespace, weights_tag: str) -> str:
    """Hash of everything a layout depends on: the images (ids, paths, order) and every layout option."""
    return _hash([*_layout_options(args, weights_tag), [(r.id, r.rel) for r in records]])


def saved_positions_path(cache_dir: Path, output: Path) -> Path:
    """Where the raw t-SNE positions of the layout written to `output` are kept between runs."""
    return cache_dir / "layouts" / f"{output.stem}-{_hash(str(output))[:12]}.npz"


def save_positions(path: Path, options: str, ids: list[str], xy: dict[str, np.ndarray]) -> None:
    """Write the image ids and each layout's raw t-SNE coordinates (atomically)."""
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        np.savez(f, options=np.array(options), ids=np.array(ids), **xy)


def load_positions(path: Path, options: str, ids: list[str]) -> dict[str, np.ndarray] | None:
    """Saved raw positions of `ids` per layout, NaN rows for ids without one; None when there is no usable
    file (missing, unreadable, other options) or fewer than MIN_KNOWN_SHARE of `ids` have a position."""
    try:
        with np.load(path) as saved:
            if str(saved["options"]) != options:
                return None
            where = {image_id: row for row, image_id in enumerate(saved["ids"].tolist())}
            xy = {name: saved[name] for name in LABELS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    rows = np.array([where.get(image_id, -1) for image_id in ids], dtype=np.int64)
    known = rows >= 0
    if known.sum() < max(MIN_KNOWN_SHARE * len(ids), 1):
        return None
    out = {}
    for name, points in xy.items():
        init = np.full((len(ids), 2), np.nan)
        init[known] = points[rows[known]]
        out[name] = init
    return out


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
    print(f"t-SNE: {summary['tsne']}")
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
