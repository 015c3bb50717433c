"""Atlas slots of an incremental run: old images keep the sheet and cell the previous layout file gave them,
new ones take freed or trailing slots, and only the sheets whose images changed are drawn again; every
other sheet is reused as the previous file describes it once its bytes on disk are checked (a 20k layout
+ 1 %: a handful of sheets instead of all of them)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from layoutfile import file_digest

MAX_EMPTY_SLOTS = 0.10   # with more of the slots empty than this (images removed), the atlas is drawn afresh


def continued_slots(previous: dict, ids: list[str], order: np.ndarray, out_dir: Path, rel_prefix: str,
                    cell_sizes: tuple[int, ...], cells_per_side: int
                    ) -> tuple[np.ndarray, dict[int, list[tuple[str, int, str]]]] | None:
    """(slot of each of `ids`, {sheet: [(file, bytes, blake2b) per level]} to reuse) continuing the atlas of
    the layout document `previous`, written beside `out_dir`; None when it cannot be continued (other cell
    sizes or sheet size, sheets elsewhere, no recorded digests, too many empty slots). New images fill the
    free slots in the order they have in `order` (all indices of `ids`, e.g. by blur grid position)."""
    levels = previous["atlas"]["levels"]
    k2 = cells_per_side * cells_per_side
    if ([level["cell_px"] for level in levels] != list(cell_sizes)
            or any(level["sheet_px"] != level["cell_px"] * cells_per_side or "blake2b" not in level
                   or not all(rel.startswith(f"{rel_prefix}/") for rel in level["files"]) for level in levels)):
        return None
    before = {image["id"]: image["atlas_sheet"] * k2 + image["atlas_cell"] for image in previous["images"]}
    slots = np.array([before.get(image_id, -1) for image_id in ids], dtype=np.int64)
    taken = np.zeros(max(len(levels[0]["files"]) * k2, slots.max(initial=-1) + 1), dtype=bool)
    taken[slots[slots >= 0]] = True
    free = np.flatnonzero(~taken)
    new_order = np.asarray(order)[slots[order] < 0]
    needed = len(new_order)
    free = np.concatenate([free, len(taken) + np.arange(max(0, needed - len(free)))])[:needed]
    slots[new_order] = free
    used_span = int(slots.max(initial=-1)) + 1
    if used_span > len(ids) * (1 + MAX_EMPTY_SLOTS) + k2:
        return None
    current = set(ids)
    changed = set((free // k2).tolist()) | {slot // k2 for image_id, slot in before.items() if image_id not in current}
    reuse = {}
    for sheet in range(min(len(levels[0]["files"]), -(-used_span // k2))):
        described = [(level["files"][sheet], level["bytes"][sheet], level["blake2b"][sheet]) for level in levels]
        if sheet not in changed and all(_holds(out_dir / rel, length, digest) for rel, length, digest in described):
            reuse[sheet] = described
    return slots, reuse


def _holds(path: Path, length: int, digest: str) -> bool:
    """Whether the file at `path` has exactly `length` bytes with blake2b `digest`."""
    try:
        return os.stat(path).st_size == length and file_digest(path)[1] == digest
    except OSError:
        return False
