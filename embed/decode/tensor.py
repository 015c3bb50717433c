"""The batched image path: JPEGs decoded and prepared in batches on the feature device (nvJPEG on a GPU).

`prepared_batches` yields, batch by batch, what the PIL path (embed.decode.pil) yields, and computes it
the same way, as tensors: the square thumbnail, its mean Lab colour, the network inputs (the square at the
model's side, blurred by each network level) and the blurred small squares of each colour level, whose
Lab grids are the colour blocks:

1. Reader threads read each file and header-check it with PIL (format, mode, size, EXIF orientation,
   all without decoding). Anything but a 1- or 3-component JPEG within the pixel limit goes through
   the PIL path's `decode_one` in the reader thread, so every other format, and every
   failure, is handled and reported exactly as before. Readers work `prefetch` batches ahead, and steps
   2–3 run in a thread of their own, so the caller's network and cache writes overlap them.
2. One `torchvision.io.decode_jpeg(list, device=...)` call decodes the batch (on CUDA: nvJPEG's batched
   decode; on the CPU the readers decode file by file instead, side by side). It fails whole when one
   file is bad; then each file is decoded alone, and those that still fail go through `decode_one`,
   which lists them with PIL's reason.
3. Images of the same stored size and orientation are then prepared together, following `open_image`,
   `square_thumbnail` and `blur_square` step by step: the JPEG draft reduction (as a box average), the
   EXIF orientation (read on the CPU: decode_jpeg ignores it on CUDA), the thumbnail resize with its
   reducing gap, the centre crop or letterbox with Lanczos, the bilinear resize to the blurred side and
   Pillow's Gaussian blur (`embed.decode.tensor_image`). Thumbnails come back from the same decode.

Normalisation is left to the model's feature function, as for the PIL path.
"""

from __future__ import annotations

import io
import math
import time
import warnings
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from PIL import Image
from torchvision.io import ImageReadMode, decode_jpeg

from embed.decode.blur import REFERENCE_SIDE
from embed.decode.pil import decode_one
from embed.decode.plan import Batch, Decoded, DecodePlan, Item, lab_blocks
from embed.image.file import DEFAULT_MAX_PIXELS, ImageRecord
from embed.decode.tensor_image import (box_reduce, exif_orient, pil_gaussian_blur, reduce_factor, resample,
                                resample_weights, srgb_to_lab, to_8bit)
from embed.image.square import thumb_source_side
from layoutfile import open_regular

JPEG_MAGIC = b"\xff\xd8\xff"
BATCH_MODES = ("L", "RGB")     # JPEG modes this path decodes (CMYK/YCCK go to the PIL path)
CHUNK_PIXELS = 32_000_000      # decoded pixels turned into floats at a time (bounds memory per step)


@dataclass
class _Read:
    """One file as a reader thread left it: bytes (or pixels) to prepare, or the PIL path's item."""

    index: int
    data: torch.Tensor | None = None       # the file's bytes (uint8), or decoded (3, H, W) pixels
    decoded: bool = False
    orientation: int = 1
    item: Item | None = None


def prepared_batches(records: list[ImageRecord], plan: DecodePlan, device: torch.device, batch_size: int,
                     readers: int = 4, prefetch: int | None = None,
                     decode_in_readers: bool | None = None) -> Iterator[Batch]:
    """Batches of `records`, in order (see the module docstring). Reading runs up to `prefetch` batches ahead
    in `readers` threads, and one more thread prepares the batches in order, so the caller's network and
    cache writes overlap both. JPEGs are decoded one by one in the reader threads (`decode_in_readers`,
    the default on the CPU: the threads then decode side by side) or a batch at a time in the preparing
    thread (the default on a GPU: one nvJPEG call per batch)."""
    starts = iter(range(0, len(records), batch_size))
    prefetch = prefetch or readers + 1
    decode_in_readers = device.type == "cpu" if decode_in_readers is None else decode_in_readers
    reading = ThreadPoolExecutor(max(1, readers), thread_name_prefix="read-images")
    preparing = ThreadPoolExecutor(1, thread_name_prefix="prepare-images")   # one: batches stay in order

    def prepare(read: Future) -> Batch:
        reads = read.result()
        start = time.perf_counter()
        items = _prepare_batch(reads, records, plan, device)
        return Batch.of(items, {"prepare": time.perf_counter() - start})

    pending: deque[Future] = deque()
    try:
        while True:
            while len(pending) < prefetch and (start := next(starts, None)) is not None:
                chunk = range(start, min(start + batch_size, len(records)))
                read = reading.submit(_read_batch, records, chunk, plan, decode_in_readers)
                pending.append(preparing.submit(prepare, read))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for executor in (preparing, reading):
            executor.shutdown(wait=True, cancel_futures=True)


def _read_batch(records: list[ImageRecord], chunk: range, plan: DecodePlan, decode: bool) -> list[_Read]:
    reads = [_read(i, records[i], plan) for i in chunk]
    if decode:
        for read in reads:
            if read.item is None:
                pixels = _decode_each([read.data], torch.device("cpu"))[0]
                read.data, read.decoded = pixels, pixels is not None
                read.item = None if pixels is not None else decode_one(read.index, records[read.index], plan)
    return reads


def _read(index: int, record: ImageRecord, plan: DecodePlan) -> _Read:
    """Read and header-check one file; non-JPEGs and odd JPEGs get their PIL-path item right away."""
    orientation = None
    try:
        with open_regular(record.path) as file:
            data = bytearray(file.read())
        orientation = _jpeg_orientation(data)
    except OSError:
        pass   # the PIL path reports it
    if orientation is None:
        return _Read(index, item=decode_one(index, record, plan))
    return _Read(index, torch.frombuffer(data, dtype=torch.uint8), orientation=orientation)


def _jpeg_orientation(data: bytearray) -> int | None:
    """The EXIF orientation of a JPEG this path decodes; None for any other file (the PIL path's)."""
    if not data.startswith(JPEG_MAGIC):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                usable = (img.format == "JPEG" and img.mode in BATCH_MODES
                          and img.width * img.height <= DEFAULT_MAX_PIXELS)
                return _orientation(img) if usable else None
    except Exception:   # PIL raises many kinds of error on a bad header; the PIL path reports them
        return None


def _orientation(img: Image.Image) -> int:
    """The EXIF (or XMP) orientation PIL's exif_transpose would apply; 1 when the EXIF is malformed."""
    try:
        value = img.getexif().get(0x0112, 1)
    except Exception:
        return 1
    return value if value in range(1, 9) else 1


def _decode_each(data: list[torch.Tensor], device: torch.device) -> list[torch.Tensor | None]:
    """Decode JPEG bytes to (3, H, W) uint8 on `device`: all at once, else one by one (None where one fails)."""
    try:
        return list(decode_jpeg(data, mode=ImageReadMode.RGB, device=device))
    except RuntimeError:
        return [None] if len(data) == 1 else [_decode_each([one], device)[0] for one in data]


def _prepare_batch(reads: list[_Read], records: list[ImageRecord], plan: DecodePlan,
                   device: torch.device) -> list[Item]:
    """Decode the batch's JPEGs on `device` and make their items; the others' items are already made."""
    todo = [read for read in reads if read.item is None]
    undecoded = [read for read in todo if not read.decoded]
    if undecoded:
        for read, pixels in zip(undecoded, _decode_each([read.data for read in undecoded], device)):
            read.data = pixels
    items: dict[int, Item] = {read.index: read.item for read in reads if read.item is not None}
    groups: dict[tuple, list[_Read]] = defaultdict(list)
    for read in todo:
        if read.data is None:
            items[read.index] = decode_one(read.index, records[read.index], plan)
        else:
            groups[(*read.data.shape[-2:], read.orientation)].append(read)
    for (height, width, orientation), group in groups.items():
        step = max(1, CHUNK_PIXELS // (height * width))
        for start in range(0, len(group), step):
            part = group[start:start + step]
            pixels = torch.stack([read.data.to(device) for read in part])
            for read, made in zip(part, _prepare_same_size(pixels, orientation, plan)):
                items[read.index] = (read.index, None, made)
    return [items[read.index] for read in reads]


def _prepare_same_size(pixels: torch.Tensor, orientation: int, plan: DecodePlan) -> list[Decoded]:
    """The outputs of each image of a (B, 3, H, W) uint8 batch of one stored size."""
    height, width = pixels.shape[-2:]
    upright_w, upright_h = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    max_side = thumb_source_side(upright_w, upright_h, max(plan.thumb_size, plan.base_size), plan.fit)
    draft = _draft_factor(width, height, max_side)
    x = exif_orient(box_reduce(pixels.float(), draft, draft), orientation)   # open_image: draft, then upright
    x = _thumbnail(x, max_side)                                              # open_image: thumbnail(max_side)
    thumbs = _square(x, plan.thumb_size, plan.fit, plan.background)
    square = _square(x, plan.base_size, plan.fit, plan.background)
    small = {radius: _channels_last_uint8(blurred(square, radius, plan.block_side)) for radius in plan.levels}
    inputs = {level: _channels_last_uint8(square if level == 0 else blurred(square, level, plan.base_size))
              for level in plan.network_levels}
    colours = srgb_to_lab(thumbs.permute(0, 2, 3, 1)).mean(dim=(1, 2)).cpu().numpy()
    thumbs = _channels_last_uint8(thumbs)
    return [Decoded(thumbs[b], colours[b], {level: v[b] for level, v in inputs.items()},
                    {radius: lab_blocks(v[b]) for radius, v in small.items()}) for b in range(len(pixels))]


def _channels_last_uint8(x: torch.Tensor) -> np.ndarray:
    return x.permute(0, 2, 3, 1).to(torch.uint8).cpu().numpy()


def _draft_factor(width: int, height: int, max_side: int) -> int:
    """The DCT scale PIL's JPEG draft picks in open_image (1, 2, 4 or 8)."""
    scale = max_side / max(width, height)
    if scale >= 1:
        return 1
    wanted = min(width // math.ceil(width * scale), height // math.ceil(height * scale))
    return next(s for s in (8, 4, 2, 1) if wanted >= s)


def _thumbnail(x: torch.Tensor, max_side: int) -> torch.Tensor:
    """`Image.thumbnail((max_side, max_side), LANCZOS, reducing_gap=2.0)` of a (B, 3, H, W) batch."""
    height, width = x.shape[-2:]
    if max(width, height) <= max_side:
        return x
    size = _thumbnail_size(width, height, max_side)
    return _resize(x, size, (0.0, 0.0, float(width), float(height)), "lanczos", reducing_gap=2.0)


def _thumbnail_size(width: int, height: int, side: int) -> tuple[int, int]:
    """Image.thumbnail's target size for a (side, side) bound (aspect kept, rounded as PIL rounds)."""
    aspect = width / height
    if 1 >= aspect:
        new = min(math.floor(side * aspect), math.ceil(side * aspect), key=lambda n: abs(aspect - n / side))
        return max(new, 1), side
    new = min(math.floor(side / aspect), math.ceil(side / aspect),
              key=lambda n: 0 if n == 0 else abs(aspect - side / n))
    return side, max(new, 1)


def _resize(x: torch.Tensor, size: tuple[int, int], box: tuple[float, float, float, float], kind: str,
            reducing_gap: float | None = None) -> torch.Tensor:
    """`Image.resize(size, kind, box, reducing_gap)` of a (…, H, W) batch (a whole-image box when reducing)."""
    height, width = x.shape[-2:]
    if reducing_gap:
        fx = reduce_factor(box[2] - box[0], size[0], reducing_gap)
        fy = reduce_factor(box[3] - box[1], size[1], reducing_gap)
        if fx > 1 or fy > 1:
            x = box_reduce(x, fx, fy)
            box = (box[0] / fx, box[1] / fy, box[2] / fx, box[3] / fy)
            height, width = x.shape[-2:]
    return resample(x, _weights(height, size[1], (box[1], box[3]), kind, x.device),
                    _weights(width, size[0], (box[0], box[2]), kind, x.device))


@lru_cache(maxsize=512)
def _weights(in_size: int, out_size: int, box: tuple[float, float], kind: str, device: torch.device) -> torch.Tensor:
    """resample_weights as float32 on `device`, kept: a collection has few image sizes."""
    return torch.as_tensor(resample_weights(in_size, out_size, box, kind), dtype=torch.float32, device=device)


def _square(x: torch.Tensor, size: int, fit: str, background: tuple[int, int, int]) -> torch.Tensor:
    """square_thumbnail: ImageOps.fit (centre crop) or ImageOps.pad (letterbox on `background`), Lanczos."""
    height, width = x.shape[-2:]
    if fit == "crop":
        if width >= height:
            crop = height
            box = ((width - crop) / 2, 0.0, (width - crop) / 2 + crop, float(height))
        else:
            crop = width
            box = (0.0, (height - crop) / 2, float(width), (height - crop) / 2 + crop)
        return _resize(x, (size, size), box, "lanczos")
    new_w, new_h = size, size   # ImageOps.contain, then paste centred
    if width > height:
        new_h = round(height / width * size)
    elif height > width:
        new_w = round(width / height * size)
    inner = _resize(x, (new_w, new_h), (0.0, 0.0, float(width), float(height)), "lanczos")
    out = torch.tensor(background, dtype=x.dtype, device=x.device).view(1, 3, 1, 1).repeat(len(x), 1, size, size)
    left, top = round((size - new_w) * 0.5), round((size - new_h) * 0.5)
    out[..., top:top + new_h, left:left + new_w] = inner
    return out


def blurred(square: torch.Tensor, radius: float, size: int) -> torch.Tensor:
    """blur_square: bilinear resize (reducing gap 2) to `size`, then Gaussian sigma radius/224 of it."""
    side = square.shape[-1]
    x = square if side == size else _resize(square, (size, size), (0.0, 0.0, float(side), float(side)), "bilinear",
                                            reducing_gap=2.0)
    return to_8bit(pil_gaussian_blur(x, radius * size / REFERENCE_SIDE))
