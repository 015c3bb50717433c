"""Image files: the record of a usable image, header checks, and the one full decode.

`open_image` turns any image file into an upright 8-bit RGB image (EXIF orientation, first GIF frame, alpha
composited on a background, CMYK/16-bit/palette converted) of a bounded size; the scan (embed/build/scan.py)
checks headers with the same `open_header`, so both refuse the same files with the same reasons.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from embed.image import borders
from layoutfile import NotRegularFileError, UserError, open_regular

DEFAULT_MAX_PIXELS = 178_956_970  # PIL's own decompression-bomb threshold
_ROTATING_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class ImageRecord:
    """One usable image: where it is, its stable content id, and its upright size."""

    path: Path  # absolute
    rel: str  # POSIX path relative to the scanned root
    id: str  # blake2b-64 of the file bytes (16 hex digits)
    width: int  # after EXIF orientation
    height: int


class ImageReadError(UserError):
    """An image file cannot be read: corrupt, truncated, not an image, or too large."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def open_image(path: Path, *, max_side: int | None = None, background: tuple[int, int, int] = (255, 255, 255),
               max_pixels: int = DEFAULT_MAX_PIXELS, trim_borders: bool = False) -> Image.Image:
    """Decode `path` into an upright 8-bit RGB image whose long side is at most `max_side`.

    JPEGs are decoded at a reduced scale when that still gives >= `max_side` (draft mode); then
    EXIF orientation is applied, the first frame of an animation is taken, transparency is
    composited on `background`, other modes become RGB, and the image is downscaled (reduce, then
    Lanczos). With `trim_borders`, uniform borders baked into the file are cropped first (embed/image/borders.py).
    Raises ImageReadError for missing, corrupt, truncated or too-large files.
    """
    with open_header(Path(path), max_pixels) as header:
        if max_side and header.format == "JPEG":
            scale = max_side / max(header.size)
            if scale < 1:
                header.draft("RGB", (int(np.ceil(header.width * scale)), int(np.ceil(header.height * scale))))
        try:
            header.load()
            img = _to_rgb(_upright(header), background)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            kind = "truncated" if "truncated" in str(exc) else "corrupt"
            raise ImageReadError(path, f"{kind} {header.format or 'image'} ({exc})") from None
    if trim_borders:
        img = borders.trim_borders(img)
    if max_side and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return img


@contextmanager
def open_file(path: Path) -> Iterator[BinaryIO]:
    """`path` opened for reading if it is a regular file; ImageReadError if it is missing, not a file or unreadable."""
    try:
        file = open_regular(path)
    except FileNotFoundError:
        raise ImageReadError(path, "file not found") from None
    except NotRegularFileError as exc:
        raise ImageReadError(path, exc.strerror) from None
    except OSError as exc:
        raise ImageReadError(path, f"cannot read ({exc.strerror or exc})") from None
    with file:
        yield file


@contextmanager
def open_header(path: Path, max_pixels: int, file: BinaryIO | None = None) -> Iterator[Image.Image]:
    """`path` (or its open `file`) as a lazily loaded image (header only), refusing non-images and images
    above `max_pixels`; closed when the block ends."""
    with (open_file(path) if file is None else nullcontext(file)) as fp:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img = Image.open(fp)
        except Image.DecompressionBombError as exc:
            pixels = re.search(r"\d+", str(exc))  # PIL: "Image size (N pixels) exceeds limit of ..."
            raise ImageReadError(path, f"too large: {pixels[0] if pixels else exc} pixels > limit {max_pixels}") from None
        except (UnidentifiedImageError, SyntaxError, ValueError, EOFError):
            reason = "zero bytes" if os.fstat(fp.fileno()).st_size == 0 else "not an image"
            raise ImageReadError(path, reason) from None
        except OSError as exc:
            raise ImageReadError(path, f"cannot read ({exc})") from None
        with img:
            if img.width * img.height > max_pixels:
                raise ImageReadError(path, f"too large: {img.width * img.height} pixels > limit {max_pixels}")
            yield img


def swaps_sides(img: Image.Image) -> bool:
    """Whether the EXIF orientation swaps width and height (malformed EXIF: taken as upright, as open_image does)."""
    try:
        return img.getexif().get(0x0112) in _ROTATING_ORIENTATIONS
    except Exception:
        return False


def _upright(img: Image.Image) -> Image.Image:
    """`img` turned by its EXIF orientation (unturned when the EXIF is malformed)."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # malformed EXIF: keep the stored orientation, as scan_folder does
        return img.copy()  # a copy outlives the file being closed


def _to_rgb(img: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """8-bit RGB from any PIL mode, with transparency composited on `background`."""
    if img.mode == "P" or (img.mode in ("L", "RGB") and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(img, dtype=np.float64)
        if img.mode.startswith("I;16") or values.max(initial=0) > 255:
            values = values / 257.0  # 16-bit range → 8-bit
        img = Image.fromarray(np.clip(np.round(values), 0, 255).astype(np.uint8))
    if img.mode in ("LA", "PA", "La", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        canvas = Image.new("RGB", img.size, tuple(background))
        canvas.paste(img, mask=img.getchannel("A"))
        return canvas
    return img if img.mode == "RGB" else img.convert("RGB")
