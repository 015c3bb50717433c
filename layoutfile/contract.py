"""The layout JSON file (contract version 2, docs/layout-format.md): build, write atomically, read, validate.

embed writes it; the sketches read it through `read_layout`, so both sides share one validator. The
names the contract fixes (its layouts, the two states an image can be in) live here too.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from layoutfile.atlas_index import atlas_index_problem
from layoutfile.atomic import write_text_atomic
from layoutfile.display import DISPLAY_KEY, SIZE_KEY, display_problem
from layoutfile.errors import LayoutFileError
from layoutfile.jsonfile import read_json_file

FORMAT = "tsne-gallery/layout"
VERSION = 2                      # readers accept 1 (no t-SNE display keys) and 2
GENERATOR = "tsne-gallery"
LAYOUTS = ("blur", "combined")   # every file holds both; blur first (combined is aligned onto it)
STATES = ("tsne", "grid")        # where an image sits: its t-SNE position or its grid cell


def toggle(current: str, names: tuple[str, ...]) -> str:
    """The name after `current` in `names`, wrapping round: the other one of a pair (blur ⇄ combined)."""
    return names[(names.index(current) + 1) % len(names)]


def build_layout(*, generator_version: str, params: dict, atlas_levels: list[dict], images: list[dict],
                 cols: int, rows: int, layouts: dict[str, dict], skipped: list[dict]) -> dict:
    """Assemble a contract document. `layouts[name]` holds label, tsne (N,2), grid (N,2), metrics and
    optionally tsne_display (N,2) and tsne_image_size (layoutfile.display)."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "generator": {"name": GENERATOR, "version": generator_version},
        "params": params,
        "atlas": {"levels": atlas_levels},
        "images": images,
        "grid": {"cols": int(cols), "rows": int(rows)},
        "layouts": {
            name: {
                "label": layout["label"],
                "tsne": np.round(np.asarray(layout["tsne"], dtype=float), 6).tolist(),
                "grid": np.asarray(layout["grid"], dtype=int).tolist(),
                "metrics": layout.get("metrics", {}),
                **_display_entries(layout),
            }
            for name, layout in layouts.items()
        },
        "skipped": skipped,
    }
    validate_layout(doc)
    return doc


def _display_entries(layout: dict) -> dict:
    """The optional t-SNE display keys of a layout, JSON-ready."""
    entries = {}
    if layout.get(DISPLAY_KEY) is not None:
        entries[DISPLAY_KEY] = np.round(np.asarray(layout[DISPLAY_KEY], dtype=float), 6).tolist()
    if layout.get(SIZE_KEY) is not None:
        entries[SIZE_KEY] = round(float(layout[SIZE_KEY]), 6)
    return entries


def write_layout(path: str | os.PathLike, doc: dict) -> None:
    """Validate `doc` and write it to `path` atomically (readers see the old file or the new one)."""
    validate_layout(doc, source=str(path))
    write_text_atomic(path, json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")


def read_layout(path: str | os.PathLike) -> dict:
    """Read and validate a layout file; raise LayoutFileError with a one-line reason on any problem.

    `params.source` (the images' folder) comes back as an absolute path, whether the file holds it
    relative to its own folder (as embed writes it) or absolute.
    """
    path = Path(path)
    doc = read_json_file(path, "layout", LayoutFileError,
                         missing_hint=f" (make one with `python -m embed IMAGES -o {path}`)")
    validate_layout(doc, source=str(path))
    if isinstance(doc["params"].get("source"), str):  # stored relative to the JSON's folder (or absolute)
        doc["params"]["source"] = os.path.normpath(path.resolve().parent / doc["params"]["source"])
    return doc


def cell_origin(cell, cell_px: int, sheet_px: int):
    """Top-left pixel (x, y) of atlas cell(s) `cell` (contract: row-major, k = sheet_px // cell_px)."""
    k = sheet_px // cell_px
    return (cell % k) * cell_px, (cell // k) * cell_px


def layout_arrays(doc: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (tsne float (N,2), grid int (N,2)) for layout `name` of a validated document."""
    layout = doc["layouts"][name]
    n = len(doc["images"])
    tsne = np.asarray(layout["tsne"], dtype=np.float64).reshape(n, 2)
    grid = np.asarray(layout["grid"], dtype=np.int64).reshape(n, 2)
    return tsne, grid


def validate_layout(doc: Any, source: str = "layout") -> None:
    """Check a document against the contract (v1 or v2); raise LayoutFileError naming the first problem found."""

    def fail(reason: str) -> None:
        raise LayoutFileError(f"{source}: {reason}")

    if not isinstance(doc, dict):
        fail("not a layout file (top level is not a JSON object)")
    if doc.get("format") != FORMAT:
        fail(f"not a tsne-gallery layout (format is {doc.get('format')!r}, expected {FORMAT!r})")
    version = doc.get("version")
    if not isinstance(version, int):
        fail("missing or non-integer 'version'")
    if version > VERSION:
        fail(f"layout version {version} is newer than this program reads ({VERSION}); update tsne-gallery")
    for key in ("params", "atlas", "images", "grid", "layouts", "skipped"):
        if key not in doc:
            fail(f"missing '{key}'")
    images = doc["images"]
    if not isinstance(images, list):
        fail("'images' is not a list")
    n = len(images)
    if n == 0:
        fail("the layout holds no images, so there is nothing to show; lay out a folder of images with "
             "`python -m embed IMAGES -o LAYOUT.json`")
    for i, image in enumerate(images):
        if not isinstance(image, dict) or not {"id", "path", "atlas_sheet", "atlas_cell"} <= image.keys():
            fail(f"images[{i}] lacks id, path, atlas_sheet or atlas_cell")
    levels = doc["atlas"].get("levels") if isinstance(doc["atlas"], dict) else None
    if not levels or not all({"cell_px", "sheet_px", "files"} <= level.keys() for level in levels):
        fail("'atlas.levels' is empty or a level lacks cell_px, sheet_px or files")
    problem = atlas_index_problem(levels, images)
    if problem:
        fail(problem)
    cols, rows = doc["grid"].get("cols"), doc["grid"].get("rows")
    if not (isinstance(cols, int) and isinstance(rows, int) and cols > 0 and rows > 0):
        fail("'grid' needs positive integer cols and rows")
    if cols * rows < n:
        fail(f"grid {cols}x{rows} has fewer cells than the {n} images")
    for name in LAYOUTS:
        layout = doc["layouts"].get(name)
        if not isinstance(layout, dict) or not {"tsne", "grid"} <= layout.keys():
            fail(f"layout '{name}' is missing or lacks tsne/grid")
        try:
            tsne = np.asarray(layout["tsne"], dtype=np.float64)
            grid = np.asarray(layout["grid"], dtype=np.float64)
        except (TypeError, ValueError):
            fail(f"layout '{name}': tsne/grid are not numeric (N, 2) arrays")
        if tsne.shape != (n, 2) or grid.shape != (n, 2):
            fail(f"layout '{name}': tsne {tsne.shape} / grid {grid.shape} do not match {n} images")
        if n and (not np.isfinite(tsne).all() or tsne.min() < -1e-6 or tsne.max() > 1 + 1e-6):
            fail(f"layout '{name}': tsne coordinates must lie in [0, 1]")
        if n and (np.any(grid != np.round(grid)) or grid[:, 0].min() < 0 or grid[:, 1].min() < 0
                  or grid[:, 0].max() >= cols or grid[:, 1].max() >= rows):
            fail(f"layout '{name}': grid cells must be integers inside {cols}x{rows}")
        cells = grid[:, 1].astype(np.int64) * cols + grid[:, 0].astype(np.int64)
        if len(np.unique(cells)) != n:
            fail(f"layout '{name}': two images share a grid cell")
        problem = display_problem(layout, n)
        if problem:
            fail(f"layout '{name}': {problem}")
