"""Uniform borders cut from photos: letterbox bars of any colour, JPEG noise tolerated, skies and plain images kept;
`--trim-borders` in a build: thumbnails without bars, its own cache rows."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from embed.image.borders import border_box, trim_borders
from embed.cli import main
from layoutfile import cell_origin, read_layout


def photo(w: int, h: int, seed: int = 0) -> np.ndarray:
    """A textured 'photo': smooth colour fields with noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([120 + 80 * np.sin(xx / 9), 100 + 70 * np.cos(yy / 7), 90 + 60 * np.sin((xx + yy) / 11)], axis=2)
    return np.clip(base + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)


def letterboxed(inner: np.ndarray, top: int, bottom: int, left: int, right: int, colour) -> np.ndarray:
    h, w = inner.shape[:2]
    out = np.empty((h + top + bottom, w + left + right, 3), dtype=np.uint8)
    out[:] = colour
    out[top:top + h, left:left + w] = inner
    return out


def jpeg_round_trip(pixels: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=85)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (40, 90, 160)])
def test_bars_of_any_colour_are_cut_on_every_side(colour):
    inner = photo(120, 80)
    pixels = letterboxed(inner, 14, 14, 0, 0, colour)            # letterbox
    assert border_box(pixels) == (0, 14, 120, 94)
    pixels = letterboxed(inner, 0, 0, 20, 9, colour)             # pillarbox, uneven
    assert border_box(pixels) == (20, 0, 140, 80)
    trimmed = trim_borders(Image.fromarray(letterboxed(inner, 5, 7, 3, 11, colour)))
    assert trimmed.size == (120, 80)
    assert np.array_equal(np.asarray(trimmed), inner)


def test_jpeg_noise_at_the_bar_edge_is_tolerated():
    pixels = jpeg_round_trip(letterboxed(photo(160, 96), 16, 16, 0, 0, (0, 0, 0)))
    left, top, right, bottom = border_box(pixels)
    assert (left, right) == (0, 160)
    assert 15 <= top <= 17 and 111 <= bottom <= 113


def test_images_without_bars_a_fading_sky_and_a_plain_image_stay_whole():
    img = photo(100, 70)
    assert border_box(img) == (0, 0, 100, 70)
    sky = img.copy()
    sky[:30] = (np.array([150, 190, 235]) - np.linspace(0, 40, 30)[:, None]).astype(np.uint8)[:, None, :]
    assert border_box(sky)[1] == 0
    plain = np.full((50, 60, 3), 200, dtype=np.uint8)
    assert border_box(plain) == (0, 0, 60, 50)
    unchanged = Image.fromarray(img)
    assert trim_borders(unchanged) is unchanged


def atlas_thumbnail(out: Path, doc: dict, i: int) -> np.ndarray:
    """Image i's cell in the sharpest atlas level, read back from the sheet on disk."""
    level = max(doc["atlas"]["levels"], key=lambda lv: lv["cell_px"])
    image = doc["images"][i]
    sheet = np.asarray(Image.open(out.parent / level["files"][image["atlas_sheet"]]).convert("RGB"))
    x, y = cell_origin(image["atlas_cell"], level["cell_px"], level["sheet_px"])
    return sheet[y:y + level["cell_px"], x:x + level["cell_px"]]


def test_a_build_with_trim_borders_shows_no_bars_and_keys_its_cache_apart(tmp_path):
    images, out = tmp_path / "images", tmp_path / "out" / "layout.json"
    images.mkdir()
    for i in range(12):                       # wide photos in black bars above and below, square files
        Image.fromarray(letterboxed(photo(96, 40, seed=i), 28, 28, 0, 0, (0, 0, 0))).save(images / f"p{i:02d}.png")
    args = ["--features", "lab", "--atlas-cells", "16,32", "--workers", "0", "--quiet", "--fit", "pad"]
    assert main([str(images), "-o", str(out), *args]) == 0
    padded_bars = atlas_thumbnail(out, read_layout(out), 0)
    assert main([str(images), "-o", str(out), *args, "--trim-borders"]) == 0
    doc = read_layout(out)
    assert doc["params"]["trim_borders"] is True
    for i in range(12):   # letterboxed on the white pad background, not black: the bars are gone
        thumb = atlas_thumbnail(out, doc, i).astype(int)
        assert (thumb[:3] > 200).all() and (thumb[-3:] > 200).all(), i
    assert (padded_bars[:3].astype(int) < 40).all()   # without trimming: the black bars
