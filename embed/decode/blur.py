"""Blur levels: Gaussian blur whose radius is relative to the image size.

A level `r` means a Gaussian with standard deviation r/224 of the image's side: `--blur 8` blurs every
image as sigma 8 px would blur a 224-px image, whatever its resolution; 0 is the original. The blur
layout's colour blocks are taken from such blurred copies, shrunk to a few pixels (embed.options.ColourBlocks).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

REFERENCE_SIDE = 224  # blur radii are given as on an image of this side


def blur_square(square: np.ndarray, radius: float, size: int) -> np.ndarray:
    """Resize an (S,S,3) uint8 image to `size` (antialiased) and blur it by level `radius` at that size.

    Sigma is radius/224 × size, so the result looks like the full-size blurred image scaled down.
    """
    img = Image.fromarray(square)
    if img.width != size:
        img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    sigma = radius * size / REFERENCE_SIDE
    if sigma > 0:
        img = img.filter(ImageFilter.GaussianBlur(sigma))
    return np.asarray(img)
