"""The layout JSON file (contract version 3, docs/layout-format.md): build, write atomically, read, validate.

embed writes it; the sketches read it through `read_layout`, so both sides share one validator
(layoutfile/validate.py). Files of versions 1 and 2 are read too. In memory, a read document's `layouts`
is a dict name → entry in the file's layout order, whatever the version.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from layoutfile.atomic import write_text_atomic
from layoutfile.display import DISPLAY_KEY, SIZE_KEY
from layoutfile.errors import LayoutFileError
from layoutfile.jsonfile import read_json_file, strict_json
from layoutfile.names import FORMAT, GENERATOR, LAYOUTS, VERSION
from layoutfile.validate import ORDER_KEY, validate_layout


def build_layout(*, generator_version: str, params: dict, atlas_levels: list[dict], images: list[dict],
                 cols: int, rows: int, layouts: dict[str, dict], skipped: list[dict]) -> dict:
    """Assemble a contract document. `layouts` maps each name, in order, to its label, tsne (N,2), grid (N,2),
    metrics and optionally recipe (a free-form object), tsne_display (N,2) and tsne_image_size (layoutfile.display)."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "generator": {"name": GENERATOR, "version": generator_version},
        "params": params,
        "atlas": {"levels": atlas_levels},
        "images": images,
        "grid": {"cols": int(cols), "rows": int(rows)},
        ORDER_KEY: list(layouts),
        "layouts": {
            name: {
                "label": layout["label"],
                "tsne": np.round(np.asarray(layout["tsne"], dtype=float), 6).tolist(),
                "grid": np.asarray(layout["grid"], dtype=int).tolist(),
                "metrics": layout.get("metrics", {}),
                **({"recipe": layout["recipe"]} if layout.get("recipe") is not None else {}),
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
    """Validate `doc` and write it to `path` atomically and durably (readers see the old file or the new one).

    The JSON is ASCII: other characters are escaped, and a file name byte that is not UTF-8 (held as a lone
    surrogate, PEP 383) as its `\\udcXX` escape, so such names survive the round trip exactly.
    """
    validate_layout(doc, source=str(path))
    write_text_atomic(path, strict_json(doc, path, separators=(",", ":")) + "\n")


def read_layout(path: str | os.PathLike) -> dict:
    """Read and validate a layout file; raise LayoutFileError with a one-line reason on any problem.

    `params.source` (the images' folder) comes back as an absolute path, whether the file holds it
    relative to its own folder (as embed writes it) or absolute; `layouts` comes back in the layout order
    (version 3: `layout_order`; versions 1 and 2: blur, combined).
    """
    path = Path(path)
    doc = read_json_file(path, "layout", LayoutFileError,
                         missing_hint=f" (make one with `python -m embed IMAGES -o {path}`)")
    validate_layout(doc, source=str(path))
    if isinstance(doc["params"].get("source"), str):  # stored relative to the JSON's folder (or absolute)
        doc["params"]["source"] = os.path.normpath(path.resolve().parent / doc["params"]["source"])
    order = doc.get(ORDER_KEY) or [*LAYOUTS, *(name for name in doc["layouts"] if name not in LAYOUTS)]
    doc["layouts"] = {name: doc["layouts"][name] for name in order}
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
