"""Find the images in a folder: a header check and a content hash per file.

`scan_folder` hashes each file's bytes, streamed in chunks, and checks only its header (a file unchanged
since the last scan takes its id from the id cache, unopened); the one full decode happens later
(embed/image/file.py `open_image`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from embed.image.file import DEFAULT_MAX_PIXELS, ImageReadError, ImageRecord, open_file, open_header, swaps_sides
from layoutfile import UserError, atomic_path

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp")
_ID_CACHE_VERSION = 1  # bump when the id (hash) or the entry layout changes
_CHUNK = 1 << 20  # bytes hashed at a time: any file size costs the same memory
_SPECIAL_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"))
# (last data marker, end marker) per format: a file whose last end marker comes before its last data is truncated
_END_MARKERS = {"JPEG": (b"\xff\xda", b"\xff\xd9"), "PNG": (b"IDAT", b"IEND")}


@dataclass(frozen=True)
class Skipped:
    """A file that looked like an image but cannot be used, and why (short, for humans)."""

    path: str  # relative to the scanned root
    reason: str


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
    with open_file(path) as file:
        if os.fstat(file.fileno()).st_size == 0:
            raise ImageReadError(path, "zero bytes")
        with open_header(path, max_pixels, file) as img:
            image_format, (width, height), rotated = img.format, img.size, swaps_sides(img)
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
