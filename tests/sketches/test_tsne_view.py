"""The t-SNE state as the gallery draws it (issue 9): a real t-SNE map of generated clustered features,
spread by embed, rendered under Xvfb and read back. Every image gets its own colour, so the frame shows
how much of each image can be seen and how much of the box the images cover.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from tests.embed.test_spread import clustered_features
from tests.sketches.conftest import ROOT

from embed import __version__
from embed.core.grid import assign_grid, grid_shape
from embed.core.reduce import normalise_unit, reduce_to_2d
from embed.core.spread import spread_layout
from layoutfile import build_layout, tsne_world, write_layout
from sketches.lib.scene import BACKGROUND
from sketches.lib.view import View

GALLERY = ROOT / "sketches" / "gallery.py"
N = 400
CELL_PX, PER_SIDE = 16, 32           # one sheet of 32 x 32 cells holds every image
WIDTH, HEIGHT = 1280, 720
STEP = 26                            # colour levels 26 apart: 8³ distinct colours, none near the background


def distinct_colours(n: int) -> np.ndarray:
    levels = 42 + STEP * np.arange(8)                       # 42 … 224: far from the background and the outline
    assert n <= len(levels) ** 3
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    return grid[np.random.default_rng(1).permutation(len(grid))[:n]].astype(np.uint8)


def clustered_layout(folder: Path) -> tuple[Path, dict]:
    """A layout of N solid-colour images whose t-SNE map is openTSNE of generated clustered features,
    spread as embed spreads it; returns its path and the spread's metrics for the blur layout."""
    tsne = normalise_unit(reduce_to_2d(clustered_features(N, seed=0), seed=0, progress=False, n_jobs=1))
    cols, rows = grid_shape(N)
    spread = spread_layout(tsne, cols, rows)
    colours = distinct_colours(N)
    sheet = np.zeros((CELL_PX * PER_SIDE, CELL_PX * PER_SIDE, 3), np.uint8)
    for i, colour in enumerate(colours):
        x, y = (i % PER_SIDE) * CELL_PX, (i // PER_SIDE) * CELL_PX
        sheet[y:y + CELL_PX, x:x + CELL_PX] = colour
    (folder / "atlas").mkdir(parents=True)
    Image.fromarray(sheet).save(folder / "atlas" / "000.png")
    layouts = {name: {"label": name, "tsne": tsne, "grid": assign_grid(tsne, cols, rows, method="lap"),
                      "tsne_display": spread.positions, "tsne_image_size": spread.size} for name in ("blur", "combined")}
    images = [{"id": str(i), "path": f"{i}.png", "atlas_sheet": 0, "atlas_cell": i} for i in range(N)]
    doc = build_layout(generator_version=__version__, params={}, images=images, cols=cols, rows=rows, skipped=[],
                       atlas_levels=[{"cell_px": CELL_PX, "sheet_px": CELL_PX * PER_SIDE, "files": ["atlas/000.png"]}],
                       layouts=layouts)
    path = folder / "layout.json"
    write_layout(path, doc)
    return path, {"colours": colours, "doc": doc, "metrics": spread.metrics}


def image_ids(pixels: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """For every pixel, the image whose colour it shows (-1: background or an outline)."""
    ids = np.full(pixels.shape[:2], -1, np.int64)
    for i, colour in enumerate(colours):
        ids[np.abs(pixels - colour).max(axis=2) <= 12] = i
    return ids


def test_the_tsne_state_shows_every_image_and_fills_the_box(tmp_path):
    path, made = clustered_layout(tmp_path)
    metrics, doc = made["metrics"], made["doc"]
    # the targets, computed from the layout file with the sketch's fit (embed.core.metrics.display_metrics)
    assert metrics["display_covered_gt_half"] <= 0.10 and metrics["display_union_coverage"] >= 0.30
    assert metrics["display_knn10_agreement"] >= 0.80
    out = tmp_path / "tsne.png"
    result = subprocess.run([sys.executable, str(GALLERY), str(path), "--snapshot", str(out), "--state", "tsne",
                             "--size", f"{WIDTH}x{HEIGHT}"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    pixels = np.asarray(Image.open(out).convert("RGB")).astype(int)
    ids = image_ids(pixels, made["colours"])

    cols, rows = doc["grid"]["cols"], doc["grid"]["rows"]
    view = View(WIDTH, HEIGHT, cols, rows)                             # the gallery's default framing
    centres = tsne_world(np.array(doc["layouts"]["blur"]["tsne_display"]), cols, rows)
    half = doc["layouts"]["blur"]["tsne_image_size"] / 2
    ys, xs = np.nonzero(ids >= 0)
    shown = ids[ys, xs]
    for i, (x, y) in enumerate(centres):                               # each image drawn where the file puts it
        x0, y0 = view.to_screen(x - half, y - half)
        x1, y1 = view.to_screen(x + half, y + half)
        mine = shown == i
        assert (x0 - 1.5 <= xs[mine]).all() and (xs[mine] <= x1 + 1.5).all(), i
        assert (y0 - 1.5 <= ys[mine]).all() and (ys[mine] <= y1 + 1.5).all(), i
    seen = np.bincount(shown, minlength=N) > 0
    assert seen.mean() >= 0.95, np.flatnonzero(~seen)                  # (raw t-SNE: most images hidden)

    bx0, by0 = (int(round(v)) for v in view.to_screen(0, 0))
    bx1, by1 = (int(round(v)) for v in view.to_screen(cols, rows))
    box = pixels[by0:by1, bx0:bx1]
    covered = (np.abs(box - BACKGROUND).max(axis=2) > 6).mean()         # an image or its outline, not background
    assert covered >= 0.30, covered
    assert abs(covered - metrics["display_union_coverage"]) < 0.03     # the frame agrees with embed's measure
