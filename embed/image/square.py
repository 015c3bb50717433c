"""Square thumbnails: an image centre-cropped or letterboxed to a square, and the size to decode it at."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

from layoutfile import UserError

FITS = ("crop", "pad")


def square_thumbnail(img: Image.Image, size: int, fit: str = "crop",
                     background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """A (size, size, 3) uint8 thumbnail: "crop" = centre-crop to a square, "pad" = letterbox on `background`."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    if fit == "crop":
        thumb = ImageOps.fit(img, (size, size), Image.Resampling.LANCZOS)
    elif fit == "pad":
        thumb = ImageOps.pad(img, (size, size), Image.Resampling.LANCZOS, color=tuple(background))
    else:
        raise UserError(f"thumbnail fit must be one of {', '.join(FITS)}, not {fit!r}")
    return np.asarray(thumb, dtype=np.uint8)


def thumb_source_side(width: int, height: int, size: int, fit: str = "crop") -> int:
    """The long side to decode an image at (open_image's max_side) so its `size` thumbnail needs no upscaling."""
    if fit == "crop":
        return int(np.ceil(size * max(width, height) / max(1, min(width, height))))
    return size
