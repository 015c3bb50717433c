"""Blur levels: Gaussian blur whose radius is relative to the image size, and the input size each level needs.

A level `r` means a Gaussian with standard deviation r/224 of the image's side: `--blur 0,2,8,32`
blurs every image as sigma 2, 8 and 32 px would blur a 224-px image, whatever its resolution; 0 is the
original.

Speed: a blurred image holds no detail finer than its blur, so it can go through the network at a
lower resolution. A Gaussian of sigma ≥ 2 px of the smaller grid leaves ~1e-9 of the amplitude at
its Nyquist frequency (exp(-2π²σ²/4)), so a level-r image loses nothing at 2·224/r px. A CNN's
features also depend on the scale of what it sees, though, so sizes stay at or above `MIN_INPUT`.
With the default levels 0,2,8,32 that is 224, 224, 112, 112 px: 2.5× 224² pixels instead of 4×.
Measured (docs/benchmarks.md, "Features"): the layouts' quality metrics stay close to those of
full-size inputs, while sigma ≥ 1 px (level 2 at 112 px) and 64-px inputs lost too many neighbours.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

REFERENCE_SIDE = 224  # blur radii are given as on an image of this side
MIN_INPUT = 112       # smallest network input side for blurred levels (see the module docstring)
SIZE_STEP = 16        # input sides are multiples of this


def input_size_for(radius: float, base: int = REFERENCE_SIDE, min_size: int = MIN_INPUT) -> int:
    """Network input side for blur level `radius`: 2·base/radius rounded up to SIZE_STEP, within [min_size, base]."""
    if radius <= 2:
        return base
    wanted = math.ceil(2 * base / radius / SIZE_STEP) * SIZE_STEP
    return int(min(base, max(min_size, wanted)))


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
