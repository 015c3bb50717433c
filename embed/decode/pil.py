"""The PIL path: each image decoded by Pillow (JPEG draft mode), in worker threads, batch by batch in order.

From one decode (`open_image` at the smallest scale that still serves the largest output) come the
square thumbnail, its mean Lab colour, the network inputs (the square at the model's side, blurred by
each network level) and the colour blocks of each colour level (the square shrunk to a few px and
blurred: `embed.decode.blur.blur_square`). Pillow releases the GIL while it decodes, resizes and blurs, so
threads decode side by side and beside the caller's network.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from embed.decode.blur import blur_square
from embed.decode.plan import DECODE_ERRORS, Batch, Decoded, DecodePlan, Item, lab_blocks
from embed.network.models import srgb_to_lab
from embed.options import COLOUR_BLOCKS
from embed.image.file import ImageReadError, ImageRecord, open_image
from embed.image.square import square_thumbnail, thumb_source_side


def colour_blocks(square: np.ndarray, radius: float, side: int = COLOUR_BLOCKS.side) -> np.ndarray:
    """The recipe's colour blocks of one (S, S, 3) uint8 image at blur level `radius`: its Lab grids
    (COLOUR_BLOCKS.grids) of the blurred image shrunk to `side` px, one flat float32 row."""
    return lab_blocks(blur_square(square, radius, side))


def network_input(square: np.ndarray, level: float) -> np.ndarray:
    """The network's input at blur `level`: the square itself at 0, else blurred at its own size."""
    return square if level == 0 else blur_square(square, level, square.shape[0])


def decode_one(index: int, record: ImageRecord, plan: DecodePlan) -> Item:
    """(index, None, Decoded) for one image, or (index, reason, None) when it does not decode."""
    start = time.perf_counter()
    try:
        img = open_image(record.path, background=plan.background, trim_borders=plan.trim_borders,
                         max_side=thumb_source_side(record.width, record.height,
                                                    max(plan.thumb_size, plan.base_size), plan.fit))
        opened = time.perf_counter()
        thumb = square_thumbnail(img, plan.thumb_size, plan.fit, plan.background)
        square = square_thumbnail(img, plan.base_size, plan.fit, plan.background)
    except ImageReadError as exc:
        return index, exc.reason, None
    except DECODE_ERRORS as exc:
        return index, f"cannot decode ({' '.join(str(exc).split())[:120]})", None
    squared = time.perf_counter()
    colour = srgb_to_lab(thumb).reshape(-1, 3).mean(axis=0)
    blocks = {radius: colour_blocks(square, radius, plan.block_side) for radius in plan.levels}
    blocked = time.perf_counter()
    inputs = {level: network_input(square, level) for level in plan.network_levels}
    seconds = {"open": opened - start, "resize": squared - opened, "colour_blocks": blocked - squared,
               "network_inputs": time.perf_counter() - blocked}
    return index, None, Decoded(thumb, colour, inputs, blocks, seconds)


def pil_batches(records: list[ImageRecord], plan: DecodePlan, batch_size: int, workers: int,
                prefetch: int = 2) -> Iterator[Batch]:
    """Batches of `records`, in order, decoded by `workers` threads up to `prefetch` batches ahead
    (0 workers: in the calling thread, when asked for)."""
    if workers == 0:
        for start in range(0, len(records), batch_size):
            yield Batch.of([decode_one(i, records[i], plan)
                            for i in range(start, min(start + batch_size, len(records)))])
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="decode-images")
    pending: deque[Future] = deque()
    indices = iter(range(len(records)))
    try:
        while True:
            while len(pending) < (prefetch + 1) * batch_size and (i := next(indices, None)) is not None:
                pending.append(pool.submit(decode_one, i, records[i], plan))
            if not pending:
                return
            yield Batch.of([pending.popleft().result() for _ in range(min(batch_size, len(pending)))])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
