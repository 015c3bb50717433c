"""Images → thumbnails, mean colours, network inputs and colour blocks, batch by batch: one interface, two paths.

`decoded_batches(records, plan, ...)` yields `Batch`es in record order, whichever path makes them:

- `embed.decode.pil`: Pillow decodes each image (JPEG draft mode) in worker threads;
- `embed.decode.tensor`: JPEGs read by threads, then decoded and prepared in batches as tensors on the feature
  device (nvJPEG on a GPU), following the PIL path's arithmetic (`embed.decode.tensor_image`); other files
  and failures go through the PIL path's `decode_one`. The default with a CUDA device.

Both give the same outputs within a grey level or so (tests/embed/test_batch_images.py) and share the cache.
What to make of each image is a `DecodePlan`: the thumbnail's size and fit, the network's input side and
the blur levels of the network inputs and of the colour blocks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch

from embed.decode.plan import DECODE_ERRORS, Batch, Decoded, DecodePlan
from embed.image.file import ImageRecord

__all__ = ["DECODE_ERRORS", "Batch", "Decoded", "DecodePlan", "decoded_batches", "default_workers",
           "uses_batch_path"]


def uses_batch_path(image_path: str, device: torch.device) -> bool:
    """Whether images go through embed.decode.tensor: 'batch', or 'auto' with a CUDA device."""
    return image_path == "batch" or (image_path == "auto" and device.type == "cuda")


def default_workers(kind: str, device: torch.device) -> int:
    """Decoding threads: with a network on the CPU, one per two cores and at least two (on 2 cores two
    beat one in every round, docs/benchmarks.md "Features on the CPU"; the network's threads take the
    rest); with the network elsewhere (GPU) or no network (lab), decoding is the work: up to 8."""
    cores = os.cpu_count() or 1
    return max(2, cores // 2) if kind == "cnn" and device.type == "cpu" else min(8, cores)


def decoded_batches(records: list[ImageRecord], plan: DecodePlan, device: torch.device, batch_size: int,
                    workers: int, image_path: str = "auto") -> Iterator[Batch]:
    """`Batch`es of `batch_size` records, in order, decoded ahead of the caller by `workers` threads (0: the
    PIL path decodes in the calling thread), by the path `image_path` picks (`uses_batch_path`)."""
    if uses_batch_path(image_path, device) and not plan.trim_borders:   # trimming: the PIL path
        from embed.decode.tensor import prepared_batches
        return prepared_batches(records, plan, device, batch_size, readers=workers or 1)
    from embed.decode.pil import pil_batches
    return pil_batches(records, plan, batch_size, workers)
