"""Decode-once feature extraction: thumbnails, mean colours, features and colour blocks, cached on disk.

Only images missing from the cache are decoded. Decoding threads (embed/decode/) decode each such image
once (at the smallest scale that still serves the largest output), and from that one decode make its
thumbnail, its mean CIELAB colour, the network inputs (the original, and the blurred copies of
`options.network_levels`: one network pass each) and the colour blocks of every blur level (small Lab grids,
no network; see `embed.options.ColourBlocks`). The originals and blurred copies of a batch go through the network
together, only those whose features the cache lacks. Every batch's results are appended to the cache before
the next one starts, so an interrupted run resumes losing at most one batch, and a run with nothing new never
builds the network. Decoding runs ahead in its threads and cache writes in one more, while the network runs.

The network runs in torch or, on the CPU by default, in ONNX Runtime (`options.engine`; embed/network/onnx_engine.py):
their features agree to cosine 0.9999 image by image, so both share the cache's features.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from embed.build.cache import RowStore, RowView, kind_folder_name
from embed.decode import Batch, DecodePlan, decoded_batches, default_workers
from embed.network.models import CnnModel, LabModel, cnn_model, lab_model, resolve_device
from embed.options import ENGINES, FEATURE_KINDS, IMAGE_PATHS, COLOUR_BLOCKS, ExtractOptions
from embed.image.file import ImageRecord
from embed.image.square import FITS
from layoutfile import UserError


@dataclass
class Extracted:
    """Per-image outputs, in the order of `records` (the input records minus those that failed)."""

    records: list[ImageRecord]
    thumbs: RowView                       # (N, S, S, 3) uint8, read from the cache's memory map on access
    network: dict[float, np.ndarray]      # network level → (N, D) float32 features of the image blurred by it
    features: np.ndarray | None           # network[0.0], the features of the original (None without level 0)
    colour_blocks: dict[float, np.ndarray]   # blur level → (N, COLOUR_BLOCKS.dims) Lab grids of the blurred image
    colours: np.ndarray                   # (N, 3) mean CIELAB colour of each thumbnail
    failed: list[tuple[str, str]]         # (rel path, reason) of images whose decode failed
    weights_tag: str
    stats: dict = field(default_factory=dict)  # total, cached, computed, failed, engine, seconds per sub-stage


def resolve_engine(engine: str, kind: str, device: torch.device) -> str:
    """The engine that runs the network: 'auto' is onnx on the CPU, torch on CUDA/MPS; lab has no network."""
    if kind != "cnn":
        return "none"
    if engine == "onnx" and device.type != "cpu":
        raise UserError(f"--engine onnx runs on the CPU, not {device.type}; use --device cpu or --engine torch")
    if engine == "auto":
        return "onnx" if device.type == "cpu" else "torch"
    return engine

def extract(records: list[ImageRecord], cache_dir: str | os.PathLike,
            options: ExtractOptions = ExtractOptions()) -> Extracted:
    """Thumbnails, mean colours, features and colour blocks of every record, computing only what the cache lacks.

    Features of each of `options.network_levels` (0: the original; else blurred as the colour blocks are):
    `options.kind="cnn"`: the pooled features of `options.model` with `options.weights` ('default', 'random' or
    a .pth file); `kind="lab"`: an 8×8 grid of CIELAB colours, no network. Colour blocks (`colour_blocks`) for
    each of `options.blur_radii`. Images that fail to decode are left out and listed in `failed`.
    """
    timer: dict[str, float] = defaultdict(float)
    start = time.perf_counter()
    _check(options)
    model: CnnModel | LabModel = (cnn_model(options.model, options.weights, options.seed) if options.kind == "cnn"
                                  else lab_model())
    torch_device = resolve_device(options.device)
    engine = resolve_engine(options.engine, options.kind, torch_device)
    if options.workers is None:
        options = replace(options, workers=default_workers(options.kind, torch_device))
    plan = DecodePlan(options.thumb_size, options.fit, tuple(options.background), model.base_size,
                      levels=_levels(options.blur_radii), network_levels=_levels(options.network_levels),
                      trim_borders=options.trim_borders)
    stores = _Stores.open(Path(cache_dir), model, plan)

    ids = [rec.id for rec in records]
    missing = {name: store.locate(ids)[1] for name, store in stores.by_name().items()}
    todo = np.flatnonzero(np.any(list(missing.values()), axis=0))
    timer["lookup"] = time.perf_counter() - start

    failed: list[tuple[int, str]] = []
    if len(todo):
        missing = {name: m[todo] for name, m in missing.items()}
        needed = replace(plan, levels=tuple(r for r in plan.levels if missing["blocks", r].any()),
                         network_levels=tuple(r for r in plan.network_levels if missing["features", r].any()))
        failed = _compute([records[i] for i in todo], missing, needed, model, torch_device, engine, stores,
                          options, timer)
        failed = [(int(todo[i]), reason) for i, reason in failed]

    read_start = time.perf_counter()
    failed_set = {i for i, _ in failed}
    kept = [rec for i, rec in enumerate(records) if i not in failed_set]
    kept_ids = [rec.id for rec in kept]
    network = {level: np.asarray(store.view(kept_ids)) for level, store in stores.features.items()}
    result = Extracted(
        records=kept,
        thumbs=stores.thumbs.view(kept_ids),
        network=network,
        features=network.get(0.0),
        colour_blocks={r: np.asarray(store.view(kept_ids)) for r, store in stores.colour_blocks.items()},
        colours=np.asarray(stores.colours.view(kept_ids)),
        failed=[(records[i].rel, reason) for i, reason in sorted(failed)],
        weights_tag=model.weights_tag,
    )
    timer["read"] = time.perf_counter() - read_start
    timer["total"] = time.perf_counter() - start
    result.stats = {"total": len(records), "cached": len(records) - len(todo),
                    "computed": len(todo) - len(failed), "failed": len(failed), "engine": engine,
                    "workers": options.workers, "seconds": dict(timer)}
    return result


def _levels(values: tuple[float, ...]) -> tuple[float, ...]:
    """Blur levels ascending, each once, as floats."""
    return tuple(sorted({float(v) for v in values}))


def _check(options: ExtractOptions) -> None:
    """Raise UserError for a feature kind, fit, batch size, thumbnail size or worker count that cannot work."""
    if options.kind not in FEATURE_KINDS:
        raise UserError(f"unknown feature kind {options.kind!r}; use {' or '.join(FEATURE_KINDS)}")
    if options.fit not in FITS:
        raise UserError(f"thumbnail fit must be one of {', '.join(FITS)}, not {options.fit!r}")
    for name, levels in (("blur levels", options.blur_radii), ("network blur levels", options.network_levels)):
        if levels and min(levels) < 0:
            raise UserError(f"{name} must be numbers >= 0, not {list(levels)}")
    if options.batch_size < 1 or options.thumb_size < 1:
        raise UserError(f"batch size and thumbnail size must be at least 1, not {options.batch_size} "
                        f"and {options.thumb_size}")
    if options.workers is not None and options.workers < 0:
        raise UserError(f"--workers must be 0 or more, not {options.workers}")
    if options.image_path not in IMAGE_PATHS:
        raise UserError(f"image path must be one of {', '.join(IMAGE_PATHS)}, not {options.image_path!r}")
    if options.engine not in ENGINES:
        raise UserError(f"engine must be one of {', '.join(ENGINES)}, not {options.engine!r}")


@dataclass(frozen=True)
class _Stores:
    """The cache's row stores: thumbnails, mean colours, the model's features of each network level and each
    blur level's colour blocks."""

    thumbs: RowStore
    colours: RowStore
    features: dict[float, RowStore]
    colour_blocks: dict[float, RowStore]

    @classmethod
    def open(cls, root: Path, model: CnnModel | LabModel, plan: DecodePlan) -> _Stores:
        fit_key = plan.fit if plan.fit == "crop" else f"pad-{bytes(plan.background).hex()}"
        fit_key += "-trim" if plan.trim_borders else ""   # trimmed images make other thumbnails and features
        thumb_key = {"kind": "thumbs", "size": f"s{plan.thumb_size}", "fit": fit_key}
        s = plan.thumb_size
        thumbs = RowStore(root / kind_folder_name(**thumb_key), shape=(s, s, 3), dtype=np.uint8, key=thumb_key)
        colour_key = {**thumb_key, "kind": "colours-lab"}
        colours = RowStore(root / kind_folder_name(**colour_key), shape=(3,), dtype=np.float32, key=colour_key)
        features = {}
        for level in plan.network_levels:   # the row width is set by the first batch computed
            key = {"kind": "features", "model": model.name, "weights": model.weights_tag, "blur": f"r{level:g}",
                   "size": f"s{plan.base_size}", "fit": fit_key}
            features[level] = RowStore(root / kind_folder_name(**key), dtype=np.float32, key=key)
        blocks = {}
        for radius in plan.levels:
            key = {"kind": "colour-blocks", "grids": "g" + "-".join(map(str, COLOUR_BLOCKS.grids)),
                   "blur": f"r{radius:g}", "size": f"s{plan.block_side}", "from": f"s{plan.base_size}",
                   "fit": fit_key}
            blocks[radius] = RowStore(root / kind_folder_name(**key), shape=(COLOUR_BLOCKS.dims,),
                                      dtype=np.float32, key=key)
        return cls(thumbs, colours, features, blocks)

    def by_name(self) -> dict:
        """Every store by its name: 'thumbs', 'colours', ('features', level), ('blocks', level)."""
        return {"thumbs": self.thumbs, "colours": self.colours,
                **{("features", level): store for level, store in self.features.items()},
                **{("blocks", radius): store for radius, store in self.colour_blocks.items()}}


def _rows(batch: Batch, name) -> np.ndarray:
    """The batch's rows for the store called `name` (see _Stores.by_name)."""
    if name == "thumbs":
        return batch.thumbs
    if name == "colours":
        return batch.colours
    kind, level = name
    return batch.inputs[level] if kind == "features" else batch.blocks[level]


def _compute(todo: list[ImageRecord], missing: dict, plan: DecodePlan, model: CnnModel | LabModel,
             device: torch.device, engine: str, stores: _Stores, options: ExtractOptions,
             timer: dict[str, float]) -> list[tuple[int, str]]:
    """Decode, featurise and cache the `todo` records (appending per store only what it lacks; `plan` makes
    only the levels some store lacks). Returns (position in `todo`, reason) for each image that failed."""
    net = None
    failed: list[tuple[int, str]] = []
    batches = decoded_batches(todo, plan, device, options.batch_size, options.workers, options.image_path)
    with (closing(batches), ThreadPoolExecutor(1) as writer,
          tqdm(total=len(todo), desc="features", unit="img", disable=not options.progress) as bar):
        writing: Future | None = None
        while True:
            tick = time.perf_counter()
            batch = next(batches, None)
            timer["decode_wait"] += time.perf_counter() - tick
            if batch is None:
                break
            for name, seconds in batch.seconds.items():
                timer[f"decode.{name}"] += seconds
            failed += batch.failed
            ids = np.array([todo[i].id for i in batch.index], dtype=object)
            appends = []   # in the stores' order: thumbnails, colours, features, then colour blocks
            for name, store in stores.by_name().items():
                rows = missing[name][batch.index]
                if rows.any():
                    appends.append((store, list(ids[rows]), _rows(batch, name)[rows]))
            inputs = [k for k, (store, _, _) in enumerate(appends) if store in stores.features.values()]
            if inputs:
                tick = time.perf_counter()
                if net is None:
                    net = model.load(device, engine, torch.get_num_threads())  # only when a feature is missing
                    timer["model_load"] += time.perf_counter() - tick
                    tick = time.perf_counter()
                features = net(np.concatenate([appends[k][2] for k in inputs]))   # every level in one pass
                timer["network"] += time.perf_counter() - tick
                ends = np.cumsum([len(appends[k][2]) for k in inputs])[:-1]
                for k, part in zip(inputs, np.split(features, ends)):
                    appends[k] = (*appends[k][:2], part)
            tick = time.perf_counter()
            if writing is not None:
                writing.result()   # one batch written at a time, in order; its errors surface here
            timer["write_wait"] += time.perf_counter() - tick
            writing = writer.submit(_append_all, appends, timer)
            bar.update(len(batch.index) + len(batch.failed))
        if writing is not None:
            writing.result()
    return failed


def _append_all(appends: list[tuple[RowStore, list[str], np.ndarray]], timer: dict[str, float]) -> None:
    """Append one batch's rows, store by store (RowStore.append syncs the rows before their ids)."""
    start = time.perf_counter()
    for store, ids, values in appends:
        store.append(ids, values)
    timer["write"] += time.perf_counter() - start
