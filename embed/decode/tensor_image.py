"""Pillow's image operations on torch tensors, so a batch can be prepared on the GPU like embed's PIL path.

Every function takes float (…, H, W) tensors (a batch is (B, 3, H, W), values 0–255) on any device, and
follows Pillow's own arithmetic and rounds to 8 bits where Pillow does (between passes), so the results
match PIL's to one grey level (Pillow's coefficients are fixed-point):

- `resample_weights`: Pillow's resampling coefficients (Resample.c `precompute_coeffs`) for a source
  interval `box` → `out` pixels, as a dense (out, in) matrix; a resize with a box is then two matrix
  products, and resizes in a row compose into one matrix per axis.
- `box_reduce`: `Image.reduce` (averages of factor × factor blocks, partial blocks at the far edges).
- `pil_gaussian_blur`: `ImageFilter.GaussianBlur`, which is not a true Gaussian but three passes of an
  "extended" box blur per axis with edges repeated (Gwosdek et al. 2011); a true separable Gaussian
  differs from PIL's by up to 19 grey levels on noise.
- `exif_orient`: `ImageOps.exif_transpose`'s flips and turns, by EXIF orientation value.
- `srgb_to_lab`: `embed.network.models.srgb_to_lab` in torch.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

FILTER_SUPPORT = {"bilinear": 1.0, "lanczos": 3.0}   # Pillow's filter supports (in source pixels at scale 1)


def _filter(kind: str, x: np.ndarray) -> np.ndarray:
    if kind == "bilinear":
        return np.clip(1.0 - np.abs(x), 0.0, None)
    return np.where(np.abs(x) < 3.0, np.sinc(x) * np.sinc(x / 3.0), 0.0)   # lanczos


@lru_cache(maxsize=512)
def resample_weights(in_size: int, out_size: int, box: tuple[float, float], kind: str) -> np.ndarray:
    """(out_size, in_size) float64 weights that resample the source interval `box` = (lo, hi) of an
    `in_size`-pixel axis to `out_size` pixels with Pillow's `kind` filter ('bilinear' or 'lanczos')."""
    lo, hi = box
    scale = (hi - lo) / out_size
    filterscale = max(scale, 1.0)
    support = FILTER_SUPPORT[kind] * filterscale
    centre = lo + (np.arange(out_size) + 0.5) * scale
    first = np.maximum(np.trunc(centre - support + 0.5), 0)      # C's (int) cast truncates
    last = np.minimum(np.trunc(centre + support + 0.5), in_size)
    x = np.arange(in_size)[None, :]
    weights = _filter(kind, (x - centre[:, None] + 0.5) / filterscale)
    weights[(x < first[:, None]) | (x >= last[:, None])] = 0.0
    totals = weights.sum(axis=1, keepdims=True)
    return weights / np.where(totals != 0, totals, 1.0)


def reduce_factor(source: float, target: int, gap: float = 2.0) -> int:
    """Pillow's `resize(..., reducing_gap=gap)` integer pre-reduction factor along one axis (1 = none)."""
    return int(source / target / gap) or 1


def box_reduce(x: torch.Tensor, factor_x: int, factor_y: int) -> torch.Tensor:
    """`Image.reduce((factor_x, factor_y))` of (…, H, W): block means, the last partial blocks averaged
    over the pixels they hold; the result is ceil(H / factor_y) × ceil(W / factor_x)."""
    if factor_x == factor_y == 1:
        return x
    shape = x.shape
    out = F.avg_pool2d(x.reshape(-1, 1, *shape[-2:]), (factor_y, factor_x), ceil_mode=True)
    return to_8bit(out.reshape(*shape[:-2], *out.shape[-2:]))


def to_8bit(x: torch.Tensor) -> torch.Tensor:
    """Values rounded and clipped to 0–255, as an 8-bit image holds them (still float)."""
    return x.round().clamp(0, 255)


def resample(x: torch.Tensor, rows: np.ndarray | torch.Tensor, cols: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(…, H, W) → (…, rows.shape[0], cols.shape[0]) with `cols` (w, W) weights across, then `rows` (h, H)
    down, rounding to 8 bits after each pass as Pillow does (which also cuts a Lanczos filter's overshoot)."""
    wx = torch.as_tensor(cols, dtype=x.dtype, device=x.device)
    wy = torch.as_tensor(rows, dtype=x.dtype, device=x.device)
    return to_8bit(torch.matmul(wy, to_8bit(torch.matmul(x, wx.T))))


def _extended_box_radius(sigma: float, passes: int) -> float:
    """Pillow's `_gaussian_blur_radius`: the fractional box radius whose `passes`-fold blur has variance sigma²."""
    sigma2 = sigma * sigma / passes
    length = math.sqrt(12.0 * sigma2 + 1.0)
    whole = math.floor((length - 1.0) / 2.0)
    part = (2 * whole + 1) * (whole * (whole + 1) - 3 * sigma2) / (6 * (sigma2 - (whole + 1) ** 2))
    return whole + part


def _box_pass(x: torch.Tensor, radius: float, dim: int) -> torch.Tensor:
    """One extended box blur along `dim` (-1 or -2), edge pixels repeated: the mean over [i - l, i + l]
    plus a fractional weight on i ± (l + 1), where l = floor(radius)."""
    whole = int(math.floor(radius))
    part = radius - whole
    pad = whole + 1
    padded = F.pad(x, (pad, pad, 0, 0) if dim == -1 else (0, 0, pad, pad), mode="replicate")
    sums = torch.cumsum(padded, dim=dim)
    sums = torch.cat([torch.zeros_like(sums.narrow(dim, 0, 1)), sums], dim=dim)   # sums[k] = Σ padded[:k]
    n = x.shape[dim]
    inner = sums.narrow(dim, pad + whole + 1, n) - sums.narrow(dim, pad - whole, n)
    edges = padded.narrow(dim, pad - whole - 1, n) + padded.narrow(dim, pad + whole + 1, n)
    return (inner + part * edges) / (2 * radius + 1)


def pil_gaussian_blur(x: torch.Tensor, sigma: float, passes: int = 3) -> torch.Tensor:
    """`ImageFilter.GaussianBlur(sigma)` of a (B, C, H, W) float batch (see the module docstring)."""
    if sigma <= 0:
        return x
    radius = _extended_box_radius(sigma, passes)
    for dim in (-1, -2):   # Pillow blurs every row, then every column
        for _ in range(passes):
            x = to_8bit(_box_pass(x, radius, dim))   # Pillow rounds after every pass
    return x


def exif_orient(x: torch.Tensor, orientation: int) -> torch.Tensor:
    """(…, H, W) turned upright as `ImageOps.exif_transpose` turns an image with EXIF `orientation`."""
    if orientation == 2:
        return x.flip(-1)
    if orientation == 3:
        return x.flip(-1, -2)
    if orientation == 4:
        return x.flip(-2)
    if orientation == 5:
        return x.transpose(-1, -2)
    if orientation == 6:
        return torch.rot90(x, -1, dims=(-2, -1))
    if orientation == 7:
        return x.transpose(-1, -2).flip(-1, -2)
    if orientation == 8:
        return torch.rot90(x, 1, dims=(-2, -1))
    return x


def srgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(…, 3) sRGB values 0–255 → CIELAB (D65), float32, with embed.network.models.srgb_to_lab's constants."""
    c = rgb.float() / 255.0
    linear = torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    matrix = torch.tensor([[0.4124, 0.2126, 0.0193], [0.3576, 0.7152, 0.1192], [0.1805, 0.0722, 0.9505]],
                          device=rgb.device)
    xyz = linear @ matrix / torch.tensor([0.95047, 1.0, 1.08883], device=rgb.device)
    f = torch.where(xyz > (6 / 29) ** 3, xyz.clamp_min(0) ** (1 / 3), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return torch.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], dim=-1)
