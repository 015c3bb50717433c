"""Find the images in a folder (header check + content hash) and decode one image fully, once.

`scan_folder` hashes each file's bytes, streamed in chunks, and checks only its header (a file unchanged
since the last scan takes its id from the id cache, unopened); the one full decode happens later in `open_image`,
which turns any file into an upright 8-bit RGB image (EXIF orientation, first GIF frame, alpha
composited on a background, CMYK/16-bit/palette converted) of a bounded size.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm import tqdm

from embed.build import borders
from layoutfile import NotRegularFileError, UserError, atomic_path, open_regular

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp")
DEFAULT_MAX_PIXELS = 178_956_970  # PIL's own decompression-bomb threshold
_ROTATING_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_ID_CACHE_VERSION = 1  # bump when the id (hash) or the entry layout changes
_CHUNK = 1 << 20  # bytes hashed at a time: any file size costs the same memory
_SPECIAL_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"))
# (last data marker, end marker) per format: a file whose last end marker comes before its last data is truncated
_END_MARKERS = {"JPEG": (b"\xff\xda", b"\xff\xd9"), "PNG": (b"IDAT", b"IEND")}


@dataclass(frozen=True)
class ImageRecord:
    """One usable image: where it is, its stable content id, and its upright size."""

    path: Path  # absolute
    rel: str  # POSIX path relative to the scanned root
    id: str  # blake2b-64 of the file bytes (16 hex digits)
    width: int  # after EXIF orientation
    height: int


@dataclass(frozen=True)
class Skipped:
    """A file that looked like an image but cannot be used, and why (short, for humans)."""

    path: str  # relative to the scanned root
    reason: str


class ImageReadError(UserError):
    """An image file cannot be read: corrupt, truncated, not an image, or too large."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def scan_folder(root: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS, progress: bool = True,
                id_cache: Path | None = None, exclude: tuple[Path, ...] = ()) -> tuple[list[ImageRecord], list[Skipped]]:
    """Walk `root` recursively and return (usable images, skipped files), both sorted by path.

    Hidden files and folders are ignored, and so are the folders in `exclude` (a build's own output
    inside the images folder); symlinked folders are followed once (no loops). Only regular files are
    read: FIFOs, sockets and devices, whatever their names, are listed as skipped, never opened. File names that are not UTF-8 are kept
    losslessly as Python decodes them (PEP 383 surrogate escapes). Each
    candidate is header-checked (format, size, pixel limit, JPEG/PNG end marker) and hashed; a file
    with the same bytes as an earlier one is skipped as a duplicate. With `id_cache` (a JSON file,
    created if missing, ignored if unreadable) a file whose size, mtime and inode are unchanged since
    the last scan costs one stat() and is not opened. Raises UserError when `root` is not a folder
    or holds no usable image.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise UserError(f"{root}: no such folder")
    if not root.is_dir():
        raise UserError(f"{root}: not a folder")
    root = root.resolve()
    specials: list[Skipped] = []
    candidates = sorted(_walk(root, root, {os.path.realpath(folder) for folder in exclude}, specials),
                        key=lambda rel_path: rel_path[0])
    if not candidates:
        raise UserError(f"{root}: no images found (looked for {', '.join(IMAGE_EXTENSIONS)})")

    cached = _load_id_cache(id_cache) if id_cache else {}
    under_root = os.path.join(root, "")  # entries below the root that this scan does not see are dropped
    seen: dict[str, list] = {key: entry for key, entry in cached.items() if not key.startswith(under_root)}
    records: list[ImageRecord] = []
    skipped: list[Skipped] = specials
    first_by_id: dict[str, str] = {}
    for rel, path in tqdm(candidates, desc="scan", unit="img", disable=not progress):
        try:
            stat = path.stat()
            signature = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
            entry = cached.get(str(path))
            if entry and entry[:3] == signature and entry[4] * entry[5] <= max_pixels:
                image_id, width, height = entry[3:]
            else:
                image_id, width, height = _identify(path, max_pixels)
        except ImageReadError as exc:
            skipped.append(Skipped(rel, exc.reason))
            continue
        except OSError as exc:
            skipped.append(Skipped(rel, f"cannot read ({exc.strerror or exc})"))
            continue
        seen[str(path)] = [*signature, image_id, width, height]
        if image_id in first_by_id:
            skipped.append(Skipped(rel, f"duplicate of {first_by_id[image_id]}"))
            continue
        first_by_id[image_id] = rel
        records.append(ImageRecord(path, rel, image_id, width, height))
    if id_cache and seen != cached:
        _save_id_cache(id_cache, seen)
    if not records:
        raise UserError(f"{root}: no readable images ({len(skipped)} skipped, e.g. "
                        f"{skipped[0].path}: {skipped[0].reason})")
    return records, sorted(skipped, key=lambda skip: skip.path)


def open_image(path: Path, *, max_side: int | None = None, background: tuple[int, int, int] = (255, 255, 255),
               max_pixels: int = DEFAULT_MAX_PIXELS, trim_borders: bool = False) -> Image.Image:
    """Decode `path` into an upright 8-bit RGB image whose long side is at most `max_side`.

    JPEGs are decoded at a reduced scale when that still gives >= `max_side` (draft mode); then
    EXIF orientation is applied, the first frame of an animation is taken, transparency is
    composited on `background`, other modes become RGB, and the image is downscaled (reduce, then
    Lanczos). With `trim_borders`, uniform borders baked into the file are cropped first (embed/build/borders.py).
    Raises ImageReadError for missing, corrupt, truncated or too-large files.
    """
    with _open_header(Path(path), max_pixels) as header:
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


def _walk(folder: Path, root: Path, seen: set[str], specials: list[Skipped]) -> list[tuple[str, Path]]:
    """(rel, path) of every non-hidden image-named regular file under `folder`, visiting each real folder once;
    FIFOs, sockets and devices (whatever their names) are added to `specials`, never opened."""
    real = os.path.realpath(folder)
    if real in seen:
        return []
    seen.add(real)
    found = []
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = folder / entry.name
        try:
            if entry.is_dir():  # follows symlinks; `seen` stops loops
                found += _walk(path, root, seen, specials)
            elif entry.is_file():
                if path.suffix.lower() in IMAGE_EXTENSIONS:
                    found.append((path.relative_to(root).as_posix(), path))
            elif (kind := special_kind(entry.stat().st_mode)) is not None:   # stat() of a broken link: OSError
                specials.append(Skipped(path.relative_to(root).as_posix(), f"not a regular file ({kind})"))
        except OSError:
            continue
    return found


def special_kind(mode: int) -> str | None:
    """'a FIFO', 'a socket', 'a character device' or 'a block device' for such a file mode, else None."""
    return next((name for test, name in _SPECIAL_KINDS if test(mode)), None)


def _identify(path: Path, max_pixels: int) -> tuple[str, int, int]:
    """Header-check `path`, then stream it once: return (content id, upright width, upright height)."""
    with _open_file(path) as file:
        if os.fstat(file.fileno()).st_size == 0:
            raise ImageReadError(path, "zero bytes")
        with _open_header(path, max_pixels, file) as img:
            image_format, (width, height), rotated = img.format, img.size, _rotated(img)
        file.seek(0)
        image_id, truncated = _hash_and_check_end(file, _END_MARKERS.get(image_format))
    if truncated:
        raise ImageReadError(path, f"truncated {image_format}")
    return image_id, *((height, width) if rotated else (width, height))


def _hash_and_check_end(file: BinaryIO, markers: tuple[bytes, bytes] | None) -> tuple[str, bool]:
    """(content id, truncated) of an open file read in chunks: truncated when the last of `markers`' end
    marker comes before the last data marker (no end after the last scan / data chunk)."""
    digest = hashlib.blake2b(digest_size=8)
    last = [-1, -1]
    overlap, offset = b"", 0   # the tail of the previous chunk, where a marker may start
    while chunk := file.read(_CHUNK):
        digest.update(chunk)
        if markers:
            window = overlap + chunk
            for k, marker in enumerate(markers):
                found = window.rfind(marker)
                if found >= 0:
                    last[k] = offset - len(overlap) + found
            overlap = window[-3:]
        offset += len(chunk)
    return digest.hexdigest(), bool(markers) and last[1] < last[0]


def _load_id_cache(path: Path) -> dict[str, list]:
    """{absolute file path: [size, mtime_ns, inode, id, width, height]}; {} when missing or unreadable."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = doc["entries"] if doc.get("version") == _ID_CACHE_VERSION else {}
        return {key: entry for key, entry in entries.items() if _valid_entry(entry)}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return {}


def _valid_entry(entry: object) -> bool:
    """Whether a cache entry has the shape [int, int, int, str, int, int]."""
    return (isinstance(entry, list) and len(entry) == 6 and isinstance(entry[3], str)
            and all(isinstance(v, int) for v in entry[:3] + entry[4:]))


def _save_id_cache(path: Path, entries: dict[str, list]) -> None:
    """Write the id cache `entries` to `path` atomically (compact JSON)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"version": _ID_CACHE_VERSION, "entries": entries}, separators=(",", ":")),
                       encoding="utf-8")


@contextmanager
def _open_file(path: Path) -> Iterator[BinaryIO]:
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
def _open_header(path: Path, max_pixels: int, file: BinaryIO | None = None) -> Iterator[Image.Image]:
    """`path` (or its open `file`) as a lazily loaded image (header only), refusing non-images and images
    above `max_pixels`; closed when the block ends."""
    with (_open_file(path) if file is None else nullcontext(file)) as fp:
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


def _rotated(img: Image.Image) -> bool:
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
