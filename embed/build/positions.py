"""The map a build made, kept in the cache between runs, so that a re-run adds images to it instead of
starting again: per image id and layout its raw t-SNE position and grid cell, and per layout the
projection of feature rows into the t-SNE input space and the alignment onto the layout before it
(the in-memory types are embed/core/maps.py's)."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embed.build.fingerprint import stable_hash
from embed.core.maps import KeptMap, MapLayout
from embed.core.reduce import MIN_TSNE_POINTS, Projection
from layoutfile import atomic_path

MIN_KNOWN_SHARE = 0.5  # continue the saved map when at least this share of the images has a saved position


@dataclass(frozen=True)
class SavedPositions:
    """The map of the layouts written to one output file, valid only under one set of options."""

    path: Path
    options_key: str   # embed.build.fingerprint.options_fingerprint of the run that saved them

    @classmethod
    def of_output(cls, cache_dir: Path, output: Path, options_key: str) -> SavedPositions:
        """The saved map of the layout written to `output`, under the options `options_key`."""
        return cls(cache_dir / "layouts" / f"{output.stem}-{stable_hash(str(output))[:12]}.npz", options_key)

    def save(self, ids: list[str], layouts: dict[str, MapLayout], cols: int, rows: int,
             dial_positions: tuple[float, ...] = ()) -> None:
        """Write the image ids, the grid shape, every layout's map and a dial's stops (atomically)."""
        arrays = {"options": np.array(self.options_key), "ids": np.array(ids), "shape": np.array([cols, rows]),
                  "dial_positions": np.array(dial_positions, dtype=np.float64)}
        for name, layout in layouts.items():
            p = layout.projection
            arrays.update({f"{name}.xy": layout.xy, f"{name}.grid": layout.grid, f"{name}.matrix": layout.matrix,
                           f"{name}.offset": layout.offset, f"{name}.box": layout.box, f"{name}.mean": p.mean})
            if p.components is not None:
                arrays[f"{name}.components"] = p.components
            if p.scale is not None:
                arrays[f"{name}.scale"] = p.scale
        with atomic_path(self.path) as tmp, tmp.open("wb") as f:
            np.savez(f, **arrays)

    def load(self, ids: list[str], names: list[str]) -> KeptMap | None:
        """The saved map of the layouts `names` looked up for `ids`; None when there is no usable file (missing, unreadable, from
        other options or an older version) or fewer than MIN_KNOWN_SHARE of `ids` (or than MIN_TSNE_POINTS) are in it."""
        try:
            with np.load(self.path) as saved:
                if str(saved["options"]) != self.options_key:
                    return None
                where = {image_id: row for row, image_id in enumerate(saved["ids"].tolist())}
                cols, rows = (int(v) for v in saved["shape"])
                layouts = {name: MapLayout(saved[f"{name}.xy"], saved[f"{name}.grid"],
                                           Projection(saved[f"{name}.mean"], _optional(saved, f"{name}.components"),
                                                      _optional(saved, f"{name}.scale")),
                                           saved[f"{name}.matrix"], saved[f"{name}.offset"], saved[f"{name}.box"])
                           for name in names}
                dial_positions = saved["dial_positions"] if len(saved["dial_positions"]) else None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        index = np.array([where.get(image_id, -1) for image_id in ids], dtype=np.int64)
        if (index >= 0).sum() < max(MIN_KNOWN_SHARE * len(ids), MIN_TSNE_POINTS):
            return None
        return KeptMap(index, cols, rows, layouts, dial_positions)


def _optional(saved, key: str) -> np.ndarray | None:
    return saved[key] if key in saved else None
