"""Uniform borders baked into a photo (letterboxing bars, white mounts) found and cropped away.

Each side is scanned inwards on its own: a row (or column) belongs to the border while nearly all its
pixels (BAR_SHARE) are within TOLERANCE grey levels, in every channel, of the colour of that side's
outermost line, any colour. A band is cut only if it ends at a clear edge: one of the EDGE_LINES lines
after it (JPEG blurs the edge over a line or two) differs from the band's colour by more than
EDGE_CONTRAST on average, so a clear sky that fades slowly is not taken for a bar. At most MAX_SHARE of each dimension goes per side, and an image that is uniform all
over is kept whole.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

TOLERANCE = 12        # grey levels per channel a bar's pixel may differ from the bar's colour (JPEG noise)
BAR_SHARE = 0.98      # share of a line's pixels within TOLERANCE for the line to be bar
EDGE_CONTRAST = 24.0  # mean absolute difference (grey levels) of an inner line from the bar's colour
EDGE_LINES = 2        # lines after the band searched for that edge
MAX_SHARE = 0.4       # most of the width (height) cut from one side


def border_box(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the image inside its uniform borders, for an (H, W, 3) uint8 array."""
    x = np.asarray(pixels, dtype=np.int16)
    h, w = x.shape[:2]
    top = _band(x, h)
    bottom = h - _band(x[::-1], h)
    left = _band(x.transpose(1, 0, 2), w)
    right = w - _band(x.transpose(1, 0, 2)[::-1], w)
    if bottom - top < 1 or right - left < 1:
        return 0, 0, w, h
    return left, top, right, bottom


def trim_borders(img: Image.Image) -> Image.Image:
    """`img` (RGB) cropped to `border_box`; the image itself when it has no uniform border."""
    box = border_box(np.asarray(img.convert("RGB")))
    return img if box == (0, 0, *img.size) else img.crop(box)


def _band(lines: np.ndarray, size: int) -> int:
    """How many leading lines (rows of `lines`, (L, K, 3)) form a uniform band ending at a clear edge."""
    colour = np.median(lines[0], axis=0)
    close = (np.abs(lines - colour) <= TOLERANCE).all(axis=2).mean(axis=1) >= BAR_SHARE
    limit = int(size * MAX_SHARE)
    count = int(np.argmin(close[:limit + 1])) if not close[:limit + 1].all() else limit + 1
    if count == 0 or count > limit:
        return 0
    edge = np.abs(lines[count:count + EDGE_LINES] - colour).mean(axis=(1, 2)).max()
    return count if edge > EDGE_CONTRAST else 0
