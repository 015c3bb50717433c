"""Append-only on-disk store of fixed-width rows keyed by image id, read through a memory map.

One folder per kind of row (e.g. resnet18 features of blur level 8 at 112 px, or 128-px thumbnails):

    <root>/<kind>/meta.json   the key, dtype and row shape (checked on open)
    <root>/<kind>/rows.bin    raw rows, appended
    <root>/<kind>/sums.bin    one CRC-32 per row (little-endian uint32) of its id line and its bytes, appended
    <root>/<kind>/ids.txt     one image id per line, appended *after* the rows and sums are flushed to disk

A row counts only once its id line is complete, so a run killed at any point (kill -9, power loss)
loses at most the batch it was writing: torn rows, sums and a torn last id line are cut off before the
next append. Appends hold an exclusive lock, so two runs sharing a cache interleave whole batches.
Rows are read through np.memmap: 100k thumbnails of 128×128×3 (4.9 GB) never have to fit in memory.

Every row is checked the first time `locate` (and so `view` / `get`) is asked for it: its sum must match
its id and bytes, and a float row must be finite. A damaged row (bytes overwritten on disk, ids shifted
or swapped, NaN or Infinity) is logged, in one line per store, and reported missing, so the caller
computes it again and appends it; the id's newest row is the one used. A store made before sums existed
(rows but no sums.bin) cannot be checked: it is emptied, logged, and its rows are computed again.

Default root: `.cache/` beside the output JSON (chosen by the caller; `--cache DIR` overrides), so a
gallery's cache is found, moved and deleted with it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import zlib
from pathlib import Path

import numpy as np

from layoutfile import UserError, WriteError, write_text_atomic

log = logging.getLogger(__name__)

SUM = np.dtype("<u4")   # one CRC-32 per row in sums.bin
CHECK_CHUNK_BYTES = 64 << 20   # rows are checked in reads of about this size


def row_sum(image_id: str, row: bytes | memoryview | np.ndarray) -> int:
    """The CRC-32 of a row's id line and its bytes (a row moved to another id does not match)."""
    return zlib.crc32(row, zlib.crc32(image_id.encode("utf-8", "surrogateescape") + b"\n"))


def kind_folder_name(**key: object) -> str:
    """A readable, filesystem-safe folder name from key parts, e.g. 'features_resnet18_IMAGENET1K_V1_r8_s112'."""
    return "_".join(re.sub(r"[^A-Za-z0-9.-]+", "-", str(v)) for v in key.values())


class RowView:
    """Rows of a store picked by index: an (N, *shape) array read from the memory map only where indexed."""

    def __init__(self, rows: np.ndarray, index: np.ndarray):
        self._rows, self._index = rows, index
        self.shape = (len(index), *rows.shape[1:])
        self.dtype = rows.dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, key) -> np.ndarray:
        picked = self._index[key]
        if np.ndim(picked) == 0:
            return np.asarray(self._rows[picked])
        return self._rows[picked]

    def __iter__(self):
        return (np.asarray(self._rows[i]) for i in self._index)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self._rows[self._index]
        return out if dtype is None else out.astype(dtype)


class RowStore:
    """Fixed-width rows of one kind, keyed by image id (ids are strings without whitespace)."""

    def __init__(self, folder: str | os.PathLike, *, dtype: str | np.dtype, shape: tuple[int, ...] | None = None,
                 key: dict | None = None):
        """Open (creating) the store in `folder`. With `shape=None` the row shape is the stored one, or
        is set by the first `append` (for rows whose width is known only after computing them)."""
        self.folder = Path(folder)
        self.dtype = np.dtype(dtype)
        self.key = key or {}
        self.shape: tuple[int, ...] | None = None
        self._meta_path = self.folder / "meta.json"
        self._rows_path = self.folder / "rows.bin"
        self._sums_path = self.folder / "sums.bin"
        self._ids_path = self.folder / "ids.txt"
        self._ids: list[str] = []
        self._where: dict[str, int] = {}
        self._checked = np.zeros(0, dtype=bool)   # rows already found sound, by row number
        self._ids_offset = 0  # bytes of ids.txt consumed (complete lines only)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self._sums_path.exists():
                self._empty_unchecked_rows()
            self._ids_path.touch()
            self._rows_path.touch()
            if self._meta_path.exists():
                meta = json.loads(self._meta_path.read_text(encoding="utf-8"))
                self._set_shape(tuple(meta["shape"]), meta["dtype"])
            if shape is not None:
                self._set_shape(tuple(shape), self.dtype.str)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{self.folder}: cannot use cache folder ({exc})") from None
        self._refresh()

    def _empty_unchecked_rows(self) -> None:
        """Empty a store made before sums existed (its rows cannot be checked); then start sums.bin."""
        with open(self.folder / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self._sums_path.exists():   # another process did it meanwhile
                return
            if self._rows_path.exists() and self._rows_path.stat().st_size:
                log.warning("%s: cache made by an older version, without checksums: emptied, its rows are "
                            "computed again", self.folder)
                for path in (self._rows_path, self._ids_path):
                    self._write(path, 0, b"")
            self._sums_path.touch()

    def _set_shape(self, shape: tuple[int, ...], dtype: str) -> None:
        """Adopt the row shape, or check it against the one already adopted or stored."""
        shape = tuple(int(v) for v in shape)
        if self.shape is not None and (shape, dtype) != (self.shape, self.dtype.str):
            raise UserError(f"{self.folder}: cache holds {self.dtype.str} rows of shape {list(self.shape)}, "
                            f"not {dtype} {list(shape)}; delete this folder")
        if dtype != self.dtype.str:
            raise UserError(f"{self.folder}: cache holds {dtype} rows, not {self.dtype.str}; delete this folder")
        if self.shape is None and not self._meta_path.exists():
            meta = {"key": self.key, "dtype": dtype, "shape": list(shape)}
            write_text_atomic(self._meta_path, json.dumps(meta, indent=1) + "\n")
        self.shape = shape

    @property
    def row_bytes(self) -> int:
        return int(np.prod(self.shape or (0,), dtype=np.int64)) * self.dtype.itemsize

    def _refresh(self) -> None:
        """Read id lines appended since the last look (by this or another process); skip a torn last line."""
        with self._ids_path.open("rb") as f:
            f.seek(self._ids_offset)
            tail = f.read()
        if self.shape is None:
            return  # nothing was ever appended
        rows_on_disk = min(self._rows_path.stat().st_size // self.row_bytes,
                           self._sums_path.stat().st_size // SUM.itemsize)
        for line in tail.splitlines(keepends=True):
            if not line.endswith(b"\n") or len(self._ids) >= rows_on_disk:
                break  # a torn last line, or an id whose row never reached the disk
            image_id = line[:-1].decode("utf-8", "surrogateescape")   # damaged bytes: an id nobody asks for
            self._where[image_id] = len(self._ids)
            self._ids.append(image_id)
            self._ids_offset += len(line)
        if len(self._checked) < len(self._ids):
            self._checked = np.concatenate([self._checked, np.zeros(len(self._ids) - len(self._checked), bool)])

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, image_id: str) -> bool:
        return image_id in self._where

    def locate(self, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of `ids` (-1 where absent or damaged) and the boolean mask of those."""
        index = np.fromiter((self._where.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))
        unchecked = np.unique(index[index >= 0])
        unchecked = unchecked[~self._checked[unchecked]]
        if len(unchecked):
            self._check(unchecked)
            index = np.fromiter((self._where.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))
        return index, index < 0

    def _check(self, numbers: np.ndarray) -> None:
        """Check rows `numbers` against their sums (and, for floats, finiteness); forget the damaged ones."""
        rows = self.rows()
        sums = np.fromfile(self._sums_path, dtype=SUM, count=len(self._ids))
        damaged = []
        per_chunk = max(1, CHECK_CHUNK_BYTES // max(self.row_bytes, 1))
        for start in range(0, len(numbers), per_chunk):
            chunk_numbers = numbers[start:start + per_chunk]
            chunk = np.asarray(rows[chunk_numbers])   # one read of the chunk's rows
            bad = np.fromiter((row_sum(self._ids[n], row) for n, row in zip(chunk_numbers, chunk)), dtype=np.int64,
                              count=len(chunk)) != sums[chunk_numbers]
            if self.dtype.kind == "f":
                bad |= ~np.isfinite(chunk.reshape(len(chunk), -1)).all(axis=1)
            damaged += chunk_numbers[bad].tolist()
        self._checked[numbers] = True
        for n in damaged:
            self._checked[n] = False
            if self._where.get(self._ids[n]) == n:
                del self._where[self._ids[n]]
        if damaged:
            log.warning("%s: %d cached row(s) damaged (checksum mismatch or not finite): treated as missing, "
                        "computed again", self.folder, len(damaged))

    def rows(self) -> np.ndarray:
        """All stored rows as a read-only memory map, (len(self), *shape)."""
        if not self._ids:
            return np.empty((0, *(self.shape or (0,))), self.dtype)
        return np.memmap(self._rows_path, dtype=self.dtype, mode="r", shape=(len(self._ids), *self.shape))

    def view(self, ids: list[str]) -> RowView:
        """Rows of `ids` (all must be present) without reading them yet."""
        index, missing = self.locate(ids)
        if missing.any():
            raise KeyError(f"{int(missing.sum())} ids not in {self.folder}")
        return RowView(self.rows(), index)

    def get(self, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, missing): the rows of `ids` in memory (zeros where missing) and the mask of missing ids."""
        index, missing = self.locate(ids)
        out = np.zeros((len(ids), *(self.shape or (0,))), self.dtype)
        if (~missing).any():
            out[~missing] = self.rows()[index[~missing]]
        return out, missing

    def append(self, ids: list[str], rows: np.ndarray) -> None:
        """Add rows for `ids`: rows and their sums are written and synced first, then their ids, under an
        exclusive lock."""
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if self.shape is None:
            self._set_shape(rows.shape[1:], self.dtype.str)
        if rows.shape != (len(ids), *self.shape):
            raise ValueError(f"rows of shape {rows.shape} do not match {len(ids)} ids × {self.shape}")
        if any(not i or i.split() != [i] for i in ids):
            raise ValueError("ids must be non-empty strings without whitespace")
        if not ids:
            return
        with open(self.folder / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._refresh()
            self._write(self._rows_path, len(self._ids) * self.row_bytes, rows.tobytes())  # drops torn rows
            sums = np.fromiter((row_sum(i, row) for i, row in zip(ids, rows)), dtype=SUM, count=len(ids))
            self._write(self._sums_path, len(self._ids) * SUM.itemsize, sums.tobytes())
            self._write(self._ids_path, self._ids_offset, "".join(i + "\n" for i in ids).encode("utf-8"))
            self._refresh()

    @staticmethod
    def _write(path: Path, keep: int, data: bytes) -> None:
        """Cut `path` to its first `keep` bytes (what a killed run tore off), append `data`, sync it. A full
        disk or another write failure is a WriteError; the store stays usable (the next append cuts again)."""
        try:
            with path.open("r+b") as f:
                f.truncate(keep)
                f.seek(0, os.SEEK_END)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise WriteError(path, exc) from None
