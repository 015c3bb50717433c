"""Texture atlases of the square thumbnails (sheets of equal cells, several levels of detail).

Atlas layout (docs/layout-format.md): the image in atlas slot p lives in sheet p // k² at cell p % k² at
every level, where k = cells_per_side; cell c of a sheet sits at pixel ((c % k) * cell_px, (c // k) * cell_px).
`atlas_order` fills the slots by grid position so that grid neighbours share a sheet. Sheet files are
named by their content, so a build never overwrites a sheet an older layout file names.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from layoutfile import cell_origin, digest_bytes, file_digest, write_bytes_atomic
from layoutfile.validate import MAX_SHEET_PX

JPEG_QUALITY = 90
CELLS_PER_SIDE = 64  # k: every sheet holds k × k cells at every level
MAX_ATLAS_CELL = MAX_SHEET_PX // CELLS_PER_SIDE   # largest cell whose sheets the contract allows (256 px)


def atlas_order(grid: np.ndarray, cells_per_side: int = CELLS_PER_SIDE) -> np.ndarray:
    """Image indices in atlas slot order for integer (col, row) `grid` positions (N, 2): bands of k grid rows,
    each read column by column (k = cells_per_side). A sheet's k² slots then cover a block of at least k
    columns of one band (or the end of one and the start of the next), so any k × k window of the grid
    touches at most 4 sheets: at most 2 bands, each read in one contiguous run of at most k² slots."""
    grid = np.asarray(grid, dtype=np.int64)
    return np.lexsort((grid[:, 1], grid[:, 0], grid[:, 1] // cells_per_side))


def write_atlases(thumbs: np.ndarray, out_dir: Path, rel_prefix: str, cell_sizes: tuple[int, ...] = (32, 128),
                  cells_per_side: int = CELLS_PER_SIDE, order: np.ndarray | None = None, progress: bool = True,
                  slots: np.ndarray | None = None,
                  reuse: dict[int, list[tuple[str, int, str]]] | None = None) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Write atlas sheets of `thumbs` (N, S, S, 3) uint8 (a np.memmap or cache RowView is fine) and describe them.

    Slot p holds image `order[p]` (default: image p); see `atlas_order`. Or `slots` gives each image's slot
    directly (distinct; slots no image takes stay black), and `reuse` names sheets already on disk that
    hold exactly what this call would draw: {sheet: [(file, bytes, blake2b) per level]} (embed/build/atlas_reuse.py);
    those are described, not drawn. Sheet s of a level goes to
    `out_dir/<rel_prefix>/<cell_px>/<s:03d>-<digest>.jpg`, named by the first 16 hex digits of its content's
    digest: a sheet whose file is already there with that content is not written again, and no file an
    older layout names is ever replaced. Each file is written atomically and synced to disk. Every level
    has the same k × k cells per sheet; smaller levels are Lanczos-downscaled from the thumbnails.
    Thumbnails are read one at a time and one sheet per level is in memory at a time. Returns (atlas
    levels for the layout JSON: files relative to `out_dir` with their sizes and digests, sheet index (N,),
    cell index (N,)) per image.
    """
    n, size = len(thumbs), thumbs.shape[1]
    if slots is None:
        order = np.arange(n) if order is None else np.asarray(order, dtype=np.int64)
        if not np.array_equal(np.sort(order), np.arange(n)):
            raise ValueError(f"order must be a permutation of range({n})")
        slots = np.empty(n, dtype=np.int64)
        slots[order] = np.arange(n)
    slots = np.asarray(slots, dtype=np.int64)
    if len(slots) != n or (n and slots.min() < 0) or len(np.unique(slots)) != n:
        raise ValueError(f"slots must be {n} distinct slot numbers >= 0")
    reuse = reuse or {}
    k = cells_per_side
    per_sheet = k * k
    n_sheets = max(1, -(-int(slots.max(initial=0) + 1) // per_sheet))
    in_slot = np.full(n_sheets * per_sheet, -1, dtype=np.int64)
    in_slot[slots] = np.arange(n)
    levels = [{"cell_px": int(cell), "sheet_px": int(cell * k), "files": [], "bytes": [], "blake2b": []}
              for cell in cell_sizes]
    with tqdm(total=n_sheets, desc="atlas", unit="sheet", disable=not progress) as bar:
        for s in range(n_sheets):
            described = reuse.get(s) or _draw_sheet(thumbs, in_slot[s * per_sheet:(s + 1) * per_sheet], size,
                                                    cell_sizes, k, Path(out_dir), f"{rel_prefix}/{{}}/{s:03d}")
            for level, (rel, length, digest) in zip(levels, described):
                level["files"].append(rel)
                level["bytes"].append(length)
                level["blake2b"].append(digest)
            bar.update()
    return levels, slots // per_sheet, slots % per_sheet


def _draw_sheet(thumbs: np.ndarray, images: np.ndarray, size: int, cell_sizes: tuple[int, ...], k: int,
                out_dir: Path, rel_pattern: str) -> list[tuple[str, int, str]]:
    """Draw one sheet at every level (cell c holds image images[c], -1: black), write each file unless it
    is there; return (file, bytes, digest) per level."""
    sheets = {cell: np.zeros((k * cell, k * cell, 3), dtype=np.uint8) for cell in cell_sizes}
    for c, i in enumerate(images):
        if i < 0:
            continue
        thumb = np.asarray(thumbs[i])  # one row of a memmap / RowView read from disk
        for cell, sheet in sheets.items():
            small = thumb if cell == size else np.asarray(
                Image.fromarray(thumb).resize((cell, cell), Image.Resampling.LANCZOS))
            x, y = cell_origin(c, cell, cell * k)
            sheet[y:y + cell, x:x + cell] = small
    described = []
    for cell, sheet in sheets.items():
        data = _encode(sheet)
        digest = digest_bytes(data)
        rel = f"{rel_pattern.format(cell)}-{digest[:16]}.jpg"
        _write_unless_there(out_dir / rel, data, digest)
        described.append((rel, len(data), digest))
    return described


def _encode(sheet: np.ndarray) -> bytes:
    """A sheet as JPEG bytes (4:4:4: no colour bleeds between neighbouring cells)."""
    buffer = io.BytesIO()
    Image.fromarray(sheet).save(buffer, "JPEG", quality=JPEG_QUALITY, subsampling=0)
    return buffer.getvalue()


def _write_unless_there(path: Path, data: bytes, digest: str) -> None:
    """Write `data` to `path` atomically unless the file there already holds exactly these bytes."""
    try:
        if os.stat(path).st_size == len(data) and file_digest(path)[1] == digest:
            return
    except OSError:
        pass  # missing or unreadable: (re)write it
    write_bytes_atomic(path, data)
