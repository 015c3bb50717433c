"""Decode-once feature extraction: thumbnails, mean colours, features and colour blocks, cached on disk.

Only images missing from the cache are decoded. DataLoader workers decode each such image once (at
the smallest scale that still serves the largest output), and from that one decode make its
thumbnail, its mean CIELAB colour, the model's input (the original, one network pass) and the colour
blocks of every blur level (small Lab grids, no network; see `embed.options.ColourBlocks`). Every batch's
results are appended to the cache before the next one starts, so an interrupted run resumes losing at
most one batch, and a run with nothing new never builds the network.

Two ways to make the per-image inputs, chosen by `options.image_path`: the PIL path above, and the
batched path of `embed.batch_images` (JPEGs decoded and prepared in batches on the feature device,
nvJPEG on a GPU; other files still go through the PIL code), the default with a CUDA device. Both give
the same thumbnails and inputs within a grey level or so, and share the cache. Cache writes run in a
thread, one batch at a time, while the next batch is prepared.
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
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from embed.blur import blur_square
from embed.cache import RowStore, RowView, kind_folder_name
from embed.models import CnnModel, LabModel, cnn_model, lab_model, lab_grid, resolve_device, srgb_to_lab
from embed.options import COLOUR_BLOCKS, FEATURE_KINDS, IMAGE_PATHS, ExtractOptions
from embed.scan import ImageReadError, ImageRecord, open_image
from embed.thumbs import FITS, square_thumbnail, thumb_source_side
from layoutfile import UserError

DECODE_ERRORS = (ImageReadError, OSError, ValueError, SyntaxError, EOFError)  # PIL's ways to fail on bad data


@dataclass
class Extracted:
    """Per-image outputs, in the order of `records` (the input records minus those that failed)."""

    records: list[ImageRecord]
    thumbs: RowView                       # (N, S, S, 3) uint8, read from the cache's memory map on access
    features: np.ndarray                  # (N, D) float32: the model's features of the original
    colour_blocks: dict[float, np.ndarray]   # blur level → (N, COLOUR_BLOCKS.dims) Lab grids of the blurred image
    colours: np.ndarray                   # (N, 3) mean CIELAB colour of each thumbnail
    failed: list[tuple[str, str]]         # (rel path, reason) of images whose decode failed
    weights_tag: str
    stats: dict = field(default_factory=dict)  # total, cached, computed, failed, seconds per sub-stage


@dataclass(frozen=True)
class _Plan:
    """What a worker makes from one decoded image."""

    thumb_size: int
    fit: str
    background: tuple[int, int, int]
    base_size: int                        # the model's input side
    levels: tuple[float, ...]             # blur levels of the colour blocks
    trim_borders: bool = False            # uniform borders cropped after decoding (embed/borders.py)


def colour_blocks(square: np.ndarray, radius: float) -> np.ndarray:
    """The recipe's colour blocks of one (S, S, 3) uint8 image at blur level `radius`: its Lab grids
    (COLOUR_BLOCKS.grids) of the blurred image shrunk to COLOUR_BLOCKS.side px, one flat float32 row."""
    return _lab_blocks(blur_square(square, radius, COLOUR_BLOCKS.side))


def _lab_blocks(small: np.ndarray) -> np.ndarray:
    """The Lab grids (COLOUR_BLOCKS.grids) of one blurred COLOUR_BLOCKS.side-px square, one flat float32 row."""
    return np.concatenate([lab_grid(small[None], cells)[0] for cells in COLOUR_BLOCKS.grids])


def _with_colour_blocks(thumb: np.ndarray, colour: np.ndarray, square: np.ndarray,
                        blurred: dict[float, np.ndarray]) -> tuple:
    """An image from the batched path (with its blurred small squares) as a PIL-path item (their colour blocks)."""
    return thumb, colour, square, {radius: _lab_blocks(small) for radius, small in blurred.items()}


class _DecodeOnce(Dataset):
    """Item i: (i, None, (thumb, colour, network input, {radius: colour blocks})) or (i, failure reason, None)."""

    def __init__(self, records: list[ImageRecord], plan: _Plan):
        self.records, self.plan = records, plan

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int):
        rec, plan = self.records[i], self.plan
        largest = max(plan.thumb_size, plan.base_size)
        try:
            img = open_image(rec.path, background=plan.background, trim_borders=plan.trim_borders,
                             max_side=thumb_source_side(rec.width, rec.height, largest, plan.fit))
            thumb = square_thumbnail(img, plan.thumb_size, plan.fit, plan.background)
            square = square_thumbnail(img, plan.base_size, plan.fit, plan.background)
        except ImageReadError as exc:
            return i, exc.reason, None
        except DECODE_ERRORS as exc:
            return i, f"cannot decode ({' '.join(str(exc).split())[:120]})", None
        colour = srgb_to_lab(thumb).reshape(-1, 3).mean(axis=0)
        blocks = {radius: colour_blocks(square, radius) for radius in plan.levels}
        return i, None, (thumb, colour, square, blocks)


def _collate(items: list) -> dict:
    ok = [item for item in items if item[2] is not None]
    return {
        "index": np.array([item[0] for item in ok], dtype=np.int64),
        "failed": [(item[0], item[1]) for item in items if item[2] is None],
        "thumbs": np.stack([item[2][0] for item in ok]) if ok else None,
        "colours": np.stack([item[2][1] for item in ok]) if ok else None,
        "features": np.stack([item[2][2] for item in ok]) if ok else None,
        **{r: np.stack([item[2][3][r] for item in ok]) for r in (ok[0][2][3] if ok else {})},
    }


def uses_batch_path(image_path: str, device: torch.device) -> bool:
    """Whether images go through embed.batch_images: 'batch', or 'auto' with a CUDA device."""
    return image_path == "batch" or (image_path == "auto" and device.type == "cuda")


def default_workers(kind: str, device: torch.device) -> int:
    """Decoding processes. A CNN on the CPU keeps the cores busy and decoding (JPEG draft mode) is a
    small share of the work, so workers would only compete with it: a quarter of the cores (none on
    2 cores). With the network elsewhere (GPU) or no network (lab), decoding is the work: up to 8."""
    cores = os.cpu_count() or 1
    return cores // 4 if kind == "cnn" and device.type == "cpu" else min(8, cores)


def extract(records: list[ImageRecord], cache_dir: str | os.PathLike,
            options: ExtractOptions = ExtractOptions()) -> Extracted:
    """Thumbnails, mean colours, features and colour blocks of every record, computing only what the cache lacks.

    Features of the original: `options.kind="cnn"`: the pooled features of `options.model` with
    `options.weights` ('default', 'random' or a .pth file); `kind="lab"`: an 8×8 grid of CIELAB colours, no
    network. Colour blocks (`colour_blocks`) for each of `options.blur_radii`. Images that fail to decode are
    left out and listed in `failed`.
    """
    timer: dict[str, float] = defaultdict(float)
    start = time.perf_counter()
    _check(options)
    model: CnnModel | LabModel = (cnn_model(options.model, options.weights, options.seed) if options.kind == "cnn"
                                  else lab_model())
    torch_device = resolve_device(options.device)
    if options.workers is None:
        options = replace(options, workers=default_workers(options.kind, torch_device))
    radii = tuple(sorted({float(r) for r in options.blur_radii}))
    plan = _Plan(options.thumb_size, options.fit, tuple(options.background), model.base_size, radii,
                 options.trim_borders)
    stores = _Stores.open(Path(cache_dir), model, plan)

    ids = [rec.id for rec in records]
    missing = {name: store.locate(ids)[1] for name, store in stores.by_name().items()}
    todo = np.flatnonzero(np.any(list(missing.values()), axis=0))
    timer["lookup"] = time.perf_counter() - start

    failed: list[tuple[int, str]] = []
    if len(todo):
        failed = _compute([records[i] for i in todo], {k: m[todo] for k, m in missing.items()}, plan, model,
                          torch_device, stores, options, timer)
        failed = [(int(todo[i]), reason) for i, reason in failed]

    read_start = time.perf_counter()
    failed_set = {i for i, _ in failed}
    kept = [rec for i, rec in enumerate(records) if i not in failed_set]
    kept_ids = [rec.id for rec in kept]
    result = Extracted(
        records=kept,
        thumbs=stores.thumbs.view(kept_ids),
        features=np.asarray(stores.features.view(kept_ids)),
        colour_blocks={r: np.asarray(store.view(kept_ids)) for r, store in stores.colour_blocks.items()},
        colours=np.asarray(stores.colours.view(kept_ids)),
        failed=[(records[i].rel, reason) for i, reason in sorted(failed)],
        weights_tag=model.weights_tag,
    )
    timer["read"] = time.perf_counter() - read_start
    timer["total"] = time.perf_counter() - start
    result.stats = {"total": len(records), "cached": len(records) - len(todo),
                    "computed": len(todo) - len(failed), "failed": len(failed), "seconds": dict(timer)}
    return result


def _check(options: ExtractOptions) -> None:
    """Raise UserError for a feature kind, fit, batch size, thumbnail size or worker count that cannot work."""
    if options.kind not in FEATURE_KINDS:
        raise UserError(f"unknown feature kind {options.kind!r}; use {' or '.join(FEATURE_KINDS)}")
    if options.fit not in FITS:
        raise UserError(f"thumbnail fit must be one of {', '.join(FITS)}, not {options.fit!r}")
    if not options.blur_radii or min(options.blur_radii) < 0:
        raise UserError(f"blur levels must be one or more numbers >= 0, not {list(options.blur_radii)}")
    if options.batch_size < 1 or options.thumb_size < 1:
        raise UserError(f"batch size and thumbnail size must be at least 1, not {options.batch_size} "
                        f"and {options.thumb_size}")
    if options.workers is not None and options.workers < 0:
        raise UserError(f"--workers must be 0 or more, not {options.workers}")
    if options.image_path not in IMAGE_PATHS:
        raise UserError(f"image path must be one of {', '.join(IMAGE_PATHS)}, not {options.image_path!r}")


@dataclass(frozen=True)
class _Stores:
    """The cache's row stores: thumbnails, mean colours, the model's features and each blur level's colour blocks."""

    thumbs: RowStore
    colours: RowStore
    features: RowStore
    colour_blocks: dict[float, RowStore]

    @classmethod
    def open(cls, root: Path, model: CnnModel | LabModel, plan: _Plan) -> _Stores:
        fit_key = plan.fit if plan.fit == "crop" else f"pad-{bytes(plan.background).hex()}"
        fit_key += "-trim" if plan.trim_borders else ""   # trimmed images make other thumbnails and features
        thumb_key = {"kind": "thumbs", "size": f"s{plan.thumb_size}", "fit": fit_key}
        s = plan.thumb_size
        thumbs = RowStore(root / kind_folder_name(**thumb_key), shape=(s, s, 3), dtype=np.uint8, key=thumb_key)
        colour_key = {**thumb_key, "kind": "colours-lab"}
        colours = RowStore(root / kind_folder_name(**colour_key), shape=(3,), dtype=np.float32, key=colour_key)
        key = {"kind": "features", "model": model.name, "weights": model.weights_tag, "blur": "r0",
               "size": f"s{plan.base_size}", "fit": fit_key}   # the row width is set by the first batch computed
        features = RowStore(root / kind_folder_name(**key), dtype=np.float32, key=key)
        blocks = {}
        for radius in plan.levels:
            key = {"kind": "colour-blocks", "grids": "g" + "-".join(map(str, COLOUR_BLOCKS.grids)),
                   "blur": f"r{radius:g}", "size": f"s{COLOUR_BLOCKS.side}", "from": f"s{plan.base_size}",
                   "fit": fit_key}
            blocks[radius] = RowStore(root / kind_folder_name(**key), shape=(COLOUR_BLOCKS.dims,),
                                      dtype=np.float32, key=key)
        return cls(thumbs, colours, features, blocks)

    def by_name(self) -> dict:
        """Every store under the name its rows have in a decoded batch (blur levels for colour blocks)."""
        return {"thumbs": self.thumbs, "colours": self.colours, "features": self.features, **self.colour_blocks}


def _compute(todo: list[ImageRecord], missing: dict, plan: _Plan, model: CnnModel | LabModel,
             device: torch.device, stores: _Stores, options: ExtractOptions,
             timer: dict[str, float]) -> list[tuple[int, str]]:
    """Decode, featurise and cache the `todo` records (appending per store only what it lacks).

    Returns (position in `todo`, reason) for each image that failed to decode.
    """
    net = None
    failed: list[tuple[int, str]] = []
    with (closing(_batches(todo, plan, device, options)) as batches, ThreadPoolExecutor(1) as writer,
          tqdm(total=len(todo), desc="features", unit="img", disable=not options.progress) as bar):
        writing: Future | None = None
        while True:
            tick = time.perf_counter()
            batch = next(batches, None)
            timer["decode_wait"] += time.perf_counter() - tick
            if batch is None:
                break
            failed += batch["failed"]
            ids = np.array([todo[i].id for i in batch["index"]], dtype=object)
            appends = []
            for name, store in stores.by_name().items():
                rows = missing[name][batch["index"]]
                if not rows.any():
                    continue
                values = batch[name][rows]
                if name == "features":
                    tick = time.perf_counter()
                    if net is None:
                        net = model.load(device)  # built only when some feature is really missing
                        timer["model_load"] += time.perf_counter() - tick
                        tick = time.perf_counter()
                    values = net(values)
                    timer["network"] += time.perf_counter() - tick
                appends.append((store, list(ids[rows]), values))
            tick = time.perf_counter()
            if writing is not None:
                writing.result()   # one batch written at a time, in order; its errors surface here
            timer["write"] += time.perf_counter() - tick
            writing = writer.submit(_append_all, appends)
            bar.update(len(batch["index"]) + len(batch["failed"]))
        if writing is not None:
            writing.result()
    return failed


def _append_all(appends: list[tuple[RowStore, list[str], np.ndarray]]) -> None:
    """Append one batch's rows, store by store (RowStore.append syncs the rows before their ids)."""
    for store, ids, values in appends:
        store.append(ids, values)


def _batches(todo: list[ImageRecord], plan: _Plan, device: torch.device, options: ExtractOptions):
    """Collated batches of the `todo` images' thumbnails, colours, inputs and colour blocks, by the chosen path."""
    if uses_batch_path(options.image_path, device) and not plan.trim_borders:   # trimming: the PIL path
        from embed.batch_images import prepared_batches
        fallback = _DecodeOnce(todo, plan).__getitem__   # the PIL path, for files the batch path does not take
        with closing(prepared_batches(todo, plan, COLOUR_BLOCKS.side, device, options.batch_size, fallback,
                                      finish=_with_colour_blocks, readers=options.workers or 1)) as prepared:
            yield from map(_collate, prepared)
    else:
        workers = 0 if len(todo) <= options.batch_size else options.workers  # starting processes would cost more
        yield from DataLoader(_DecodeOnce(todo, plan), batch_size=options.batch_size, num_workers=workers,
                              collate_fn=_collate)
