"""Raw t-SNE positions kept in the cache between runs, so that a re-run continues the map it made last time."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embed.fingerprint import stable_hash
from layoutfile import LAYOUTS, atomic_path

MIN_KNOWN_SHARE = 0.5  # continue the saved map when at least this share of the images has a saved position


@dataclass(frozen=True)
class SavedPositions:
    """The raw positions of every layout written to one output file, valid only under one set of options."""

    path: Path
    options_key: str   # embed.fingerprint.options_fingerprint of the run that saved them

    @classmethod
    def of_output(cls, cache_dir: Path, output: Path, options_key: str) -> SavedPositions:
        """The saved positions of the layout written to `output`, under the options `options_key`."""
        return cls(cache_dir / "layouts" / f"{output.stem}-{stable_hash(str(output))[:12]}.npz", options_key)

    def save(self, ids: list[str], xy: dict[str, np.ndarray]) -> None:
        """Write the image ids and each layout's raw t-SNE coordinates (atomically)."""
        with atomic_path(self.path) as tmp, tmp.open("wb") as f:
            np.savez(f, options=np.array(self.options_key), ids=np.array(ids), **xy)

    def load(self, ids: list[str]) -> dict[str, np.ndarray] | None:
        """Saved raw positions of `ids` per layout, NaN rows for ids without one; None when there is no usable
        file (missing, unreadable, other options) or fewer than MIN_KNOWN_SHARE of `ids` have a position."""
        try:
            with np.load(self.path) as saved:
                if str(saved["options"]) != self.options_key:
                    return None
                where = {image_id: row for row, image_id in enumerate(saved["ids"].tolist())}
                xy = {name: saved[name] for name in LAYOUTS}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        rows = np.array([where.get(image_id, -1) for image_id in ids], dtype=np.int64)
        known = rows >= 0
        if known.sum() < max(MIN_KNOWN_SHARE * len(ids), 1):
            return None
        out = {}
        for name, points in xy.items():
            init = np.full((len(ids), 2), np.nan)
            init[known] = points[rows[known]]
            out[name] = init
        return out


def count_new(init: dict[str, np.ndarray]) -> int:
    """How many images of loaded positions have none saved (their rows are NaN)."""
    return int(np.isnan(init[LAYOUTS[0]][:, 0]).sum())
