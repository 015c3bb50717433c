"""Small layout files with solid-colour atlas cells (known colours at known places) for the sketch tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from embed import __version__
from layoutfile import build_layout, write_layout

ROOT = Path(__file__).resolve().parents[2]

# Six images on a 4 x 3 grid (empty cells too). Colours far apart so a pixel check cannot confuse them.
COLOURS = np.array([[230, 30, 30], [30, 200, 40], [40, 60, 230], [240, 220, 30], [220, 40, 220], [30, 220, 220]],
                   np.uint8)
COLS, ROWS = 4, 3
GRID = {"blur": [[0, 0], [1, 0], [3, 0], [0, 2], [2, 1], [3, 2]],
        "combined": [[3, 2], [0, 0], [2, 1], [3, 0], [0, 2], [1, 1]]}
# t-SNE positions in [0, 1]^2 (x spans 0..1, y 0..0.6), far enough apart that images never overlap at rest.
# The sketch scales a cloud uniformly into the box of image centres, [0.5, COLS - 0.5] x [0.5, ROWS - 0.5],
# centred: here world = (3 x + 0.5, 3 y + 0.6), see tsne_world().
TSNE = {"blur": [[0.0, 0.0], [0.4, 0.05], [1.0, 0.0], [0.05, 0.6], [0.55, 0.45], [0.95, 0.6]],
        "combined": [[1.0, 0.6], [0.0, 0.0], [0.5, 0.35], [1.0, 0.0], [0.0, 0.6], [0.45, 0.0]]}
# A third layout (make_layout(..., third=True)): another permutation of cells, another cloud.
THIRD = {"grid": [[1, 1], [2, 0], [0, 1], [2, 2], [3, 1], [0, 0]],
         "tsne": [[0.5, 0.0], [1.0, 0.3], [0.0, 0.3], [0.5, 0.6], [1.0, 0.0], [0.0, 0.6]]}
CELL_SIZES = (8, 32)      # two levels of detail
PER_SIDE = 2              # 2 x 2 cells per sheet: six images use two sheets
# images[0] at the sharp level only: a white square in its top-left corner, a quarter of the side wide
# (the small level stays solid red).
MARK = (255, 255, 255)


def tsne_world(name: str) -> np.ndarray:
    """Expected world positions (grid-cell units) of the TSNE points above, worked out by hand."""
    return np.array(THIRD["tsne"] if name == "third" else TSNE[name]) * 3 + [0.5, 0.6]


def grid_world(name: str) -> np.ndarray:
    """Expected world positions of the grid cells: cell centres."""
    return np.array(THIRD["grid"] if name == "third" else GRID[name]) + 0.5


def write_atlas(folder: Path, colours: np.ndarray) -> list[dict]:
    """Atlas sheets of solid-colour cells, per the contract; returns the layout's atlas levels."""
    levels = []
    n_sheets = -(-len(colours) // PER_SIDE ** 2)
    for cell in CELL_SIZES:
        files = []
        for s in range(n_sheets):
            sheet = np.zeros((cell * PER_SIDE, cell * PER_SIDE, 3), np.uint8)
            for c in range(PER_SIDE ** 2):
                i = s * PER_SIDE ** 2 + c
                if i < len(colours):
                    x, y = (c % PER_SIDE) * cell, (c // PER_SIDE) * cell
                    sheet[y:y + cell, x:x + cell] = colours[i]
                    if i == 0 and cell == max(CELL_SIZES):
                        sheet[y:y + cell // 4, x:x + cell // 4] = MARK
            rel = f"atlas/{cell}/{s:03d}.png"
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(sheet).save(folder / rel)
            files.append(rel)
        levels.append({"cell_px": cell, "sheet_px": cell * PER_SIDE, "files": files})
    return levels


def make_layout(folder: Path, order: list[int] | None = None, third: bool = False) -> Path:
    """Write folder/layout.json (+ atlas) for the six test images, optionally a subset/reordering `order`;
    with `third`, a third layout named "third" after blur and combined (a version-3 file)."""
    order = list(range(len(COLOURS))) if order is None else order
    folder.mkdir(parents=True, exist_ok=True)
    images = [{"id": f"img{i}", "path": f"colours/{i}.png", "width": 64, "height": 64,
               "atlas_sheet": j // PER_SIDE ** 2, "atlas_cell": j % PER_SIDE ** 2} for j, i in enumerate(order)]
    doc = build_layout(
        generator_version=__version__,
        params={"source": str(folder / "source"), "model": "test"},
        atlas_levels=write_atlas(folder, COLOURS[order]), images=images, cols=COLS, rows=ROWS,
        layouts={name: {"label": name, "tsne": np.array(tsne)[order], "grid": np.array(grid)[order]}
                 for name, tsne, grid in [(n, TSNE[n], GRID[n]) for n in GRID]
                 + ([("third", THIRD["tsne"], THIRD["grid"])] if third else [])},
        skipped=[])
    path = folder / "layout.json"
    write_layout(path, doc)
    return path


@pytest.fixture
def layout_path(tmp_path: Path) -> Path:
    return make_layout(tmp_path / "gallery")
