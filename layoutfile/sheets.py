"""Atlas sheet files: the digest a layout records for each one, and the check that the files on disk are
the ones the layout names (contract v2: `bytes` and `blake2b` per sheet)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from layoutfile.errors import LayoutFileError
from layoutfile.paths import atlas_paths
from layoutfile.regular import open_regular

DIGEST_BYTES = 16          # blake2b-128: 32 hex digits
_CHUNK = 1 << 20


def digest_bytes(data: bytes) -> str:
    """The contract's digest of a sheet's bytes (blake2b, 16 bytes, hex)."""
    return hashlib.blake2b(data, digest_size=DIGEST_BYTES).hexdigest()


def file_digest(path: str | os.PathLike) -> tuple[int, str]:
    """(size in bytes, digest) of regular file `path`, read in chunks (any size, little memory)."""
    digest = hashlib.blake2b(digest_size=DIGEST_BYTES)
    size = 0
    with open_regular(path) as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def check_sheets(doc: dict, layout_path: str | os.PathLike, *, digests: bool) -> None:
    """Raise LayoutFileError unless every atlas sheet of a validated `doc` is a regular file of the recorded
    size (and, with `digests`, content). Levels without `bytes` / `blake2b` (contract v1) are checked for
    existence only."""
    for level, paths in zip(doc["atlas"]["levels"], atlas_paths(doc, layout_path)):
        for i, path in enumerate(paths):
            size, digest = _read(path, digests and "blake2b" in level)
            if "bytes" in level and size != level["bytes"][i]:
                raise LayoutFileError(f"{path}: atlas sheet is {size} bytes, the layout says {level['bytes'][i]} "
                                      "(another build's file?); re-run `python -m embed`")
            if digest is not None and digest != level["blake2b"][i]:
                raise LayoutFileError(f"{path}: atlas sheet's content is not the one the layout names "
                                      "(another build's file?); re-run `python -m embed`")


def _read(path: Path, digest: bool) -> tuple[int, str | None]:
    try:
        if digest:
            return file_digest(path)
        with open_regular(path) as file:
            return os.fstat(file.fileno()).st_size, None
    except FileNotFoundError:
        raise LayoutFileError(f"{path}: atlas sheet missing; re-run `python -m embed` or copy the atlas folder "
                              "next to the layout JSON") from None
    except OSError as exc:
        raise LayoutFileError(f"{path}: atlas sheet unreadable ({exc.strerror or exc})") from None
