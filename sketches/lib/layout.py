"""Load a layout JSON for the sketches and turn it into world positions.

World units: one grid cell is 1 × 1; cell (col, row) has its centre at (col + 0.5, row + 0.5), so the
whole grid spans [0, cols] × [0, rows]. Each t-SNE cloud is scaled uniformly into the same box
(centres inside [0.5, cols - 0.5] × [0.5, rows - 0.5]) and centred, so one default framing fits both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from layoutfile import LAYOUTS, UserError, atlas_paths, check_sheets, layout_arrays, open_regular, read_layout


def load_layout(path: str | Path) -> dict:
    """Read and validate a layout file and check that its atlas sheets are there: regular files of the sizes
    the layout records (contract v2) and images of the stated pixel size.

    Raises UserError (one line naming the file and the fix) on any problem, before any Java starts.
    """
    path = Path(path)
    doc = read_layout(path)
    check_sheets(doc, path, digests=False)
    for level, files in zip(doc["atlas"]["levels"], atlas_paths(doc, path)):
        for file in files:
            check_atlas_file(file, int(level["sheet_px"]))
    return doc


def check_atlas_file(file: Path, sheet_px: int) -> None:
    """Raise UserError unless `file` is a readable image of sheet_px × sheet_px pixels (reads the header only;
    a FIFO or device is refused unread)."""
    try:
        with open_regular(file) as fp, Image.open(fp) as img:
            size = img.size
    except (OSError, UnidentifiedImageError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise UserError(f"{file}: atlas sheet unreadable ({reason}); re-run `python -m embed`")
    if size != (sheet_px, sheet_px):
        raise UserError(f"{file}: atlas sheet is {size[0]}x{size[1]} px, the layout says {sheet_px}x{sheet_px}; "
                        "re-run `python -m embed`")


def grid_size(doc: dict) -> tuple[int, int]:
    """(cols, rows) of the document's grid = the world box."""
    return int(doc["grid"]["cols"]), int(doc["grid"]["rows"])


def world_positions(doc: dict) -> dict[tuple[str, str], np.ndarray]:
    """Image centres in world units, float32 (N, 2), for every (layout, state)."""
    cols, rows = grid_size(doc)
    out = {}
    for name in LAYOUTS:
        tsne, grid = layout_arrays(doc, name)
        out[name, "grid"] = (grid + 0.5).astype(np.float32)
        out[name, "tsne"] = fit_into_box(tsne, cols - 1.0, rows - 1.0, 0.5, 0.5)
    return out


def fit_into_box(points: np.ndarray, width: float, height: float, x0: float, y0: float) -> np.ndarray:
    """Scale (N, 2) points uniformly so their bounding box fits width × height at (x0, y0), centred."""
    if len(points) == 0:
        return np.zeros((0, 2), np.float32)
    lo, hi = points.min(axis=0), points.max(axis=0)
    extent = np.maximum(hi - lo, 1e-12)
    scale = min(width / extent[0], height / extent[1]) if np.any(hi > lo) else 0.0
    centre = np.array([x0 + width / 2, y0 + height / 2])
    return ((points - (lo + hi) / 2) * scale + centre).astype(np.float32)
