"""Load a layout JSON for the sketches and turn it into world placements (centre and side of every image).

World units: one grid cell is 1 × 1; cell (col, row) has its centre at (col + 0.5, row + 0.5), so the
whole grid spans [0, cols] × [0, rows]; a grid image is GRID_IMAGE_SIZE wide (a thin gap between cells).
The t-SNE state shows each layout's display positions (`tsne_display`, else the raw map) scaled uniformly
into the same box (centres inside [0.5, cols - 0.5] × [0.5, rows - 0.5], layoutfile.tsne_world) and
centred, so one default framing fits both, with images `tsne_image_size` wide (else GRID_IMAGE_SIZE).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from layoutfile import (UserError, atlas_paths, check_sheets, display_arrays, layout_arrays, layout_names,
                        open_regular, read_layout, tsne_world)

GRID_IMAGE_SIZE = 0.94   # side of an image in the grid, world units (grid cells), leaving a thin gap


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


def world_positions(doc: dict, grid_side: float = GRID_IMAGE_SIZE) -> dict[tuple[str, str], np.ndarray]:
    """Every image's placement (x, y, side) in world units, float32 (N, 3), for every (layout, state) of the file;
    grid images are `grid_side` wide (1: no gap), and so are t-SNE images where the layout gives no size."""
    cols, rows = grid_size(doc)
    out = {}
    for name in layout_names(doc):
        _, grid = layout_arrays(doc, name)
        display, size = display_arrays(doc, name)
        out[name, "grid"] = placements(grid + 0.5, grid_side)
        out[name, "tsne"] = placements(tsne_world(display, cols, rows), grid_side if size is None else size)
    return out


def check_layout_name(doc: dict, name: str, source: str | Path) -> str:
    """`name` if it is one of the document's layouts; else UserError naming `source` and the layouts there are."""
    if name not in doc["layouts"]:
        raise UserError(f"{source}: no layout named {name!r}; its layouts: {', '.join(layout_names(doc))}")
    return name


def step_layout(doc: dict, current: str, step: int) -> str:
    """The layout `step` places after `current` in the file's order (negative: before), wrapping round."""
    names = layout_names(doc)
    return names[(names.index(current) + step) % len(names)]


def placements(centres: np.ndarray, side: float) -> np.ndarray:
    """(N, 3) float32 (x, y, side) of images of one side at `centres` (N, 2)."""
    out = np.empty((len(centres), 3), np.float32)
    out[:, :2], out[:, 2] = centres, side
    return out
