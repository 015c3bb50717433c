"""GL textures the sketches own: allocated once, filled a band at a time from numpy, deleted on demand.

Processing's own textures (a PImage drawn once) are uploaded whole in one frame, get mipmaps generated
on the GPU (on software GL: on the CPU, inside that frame) and anisotropic filtering, and are freed only
when Java's garbage collector gets round to their PImage. These are made for the atlas instead:
- the mip levels are computed beforehand (`mip_levels`, numpy, on a background thread) and uploaded with
  the picture, so an upload can be spread over several frames (`TextureUpload`);
- trilinear filtering without anisotropy (16× anisotropic sampling made every textured pixel ~2× dearer
  on llvmpipe);
- `delete()` frees the GPU memory at once (hot reload releases what it replaces).
Mip levels stop at `cell_px` = 1 px, so an atlas cell never blends with its neighbours.
All calls go through Processing's PGL (it keeps its own record of bound textures consistent).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import jpype
import jpype.nio
import numpy as np

GL_TEXTURE_MAX_LEVEL = 0x813D   # not among PGL's constants


def max_texture_size() -> int:
    """The running graphics card's largest texture side (known once the sketch's GL context exists)."""
    return int(jpype.JClass("processing.opengl.PGraphicsOpenGL").maxTextureSize)


def mip_levels(rgb: np.ndarray, count: int) -> list[np.ndarray]:
    """`count` levels of an (H, W, 3) uint8 picture as contiguous RGBA: the picture, then 2 × 2 box averages.

    A stack of pictures (..., H, W, 3) gives stacked levels (..., h, w, 4): many cells in one numpy pass.
    """
    level = np.empty(rgb.shape[:-1] + (4,), np.uint8)
    level[..., :3], level[..., 3] = rgb, 255
    levels = [level]
    lead = rgb.shape[:-3]
    for _ in range(1, count):
        h, w = level.shape[-3] // 2, level.shape[-2] // 2
        blocks = level[..., :2 * h, :2 * w, :].reshape(*lead, h, 2, w, 2, 4).astype(np.uint16)
        level = ((blocks.sum(axis=(-4, -2)) + 2) // 4).astype(np.uint8)
        levels.append(level)
    return levels


def level_count(cell_px: int) -> int:
    """Mip levels of an atlas of cell_px cells: down to 1 px per cell."""
    return max(1, int(cell_px).bit_length())


class GLTexture:
    """A 2-D RGBA texture of width × height with `levels` mip levels (1: no mipmaps), initially undefined."""

    def __init__(self, sketch, width: int, height: int, levels: int = 1) -> None:
        self.sketch, self.width, self.height, self.levels = sketch, int(width), int(height), int(levels)
        self.PGL = jpype.JClass("processing.opengl.PGL")
        pgl = sketch._instance.beginPGL()
        try:
            ids = jpype.JClass("java.nio.IntBuffer").allocate(1)
            pgl.genTextures(1, ids)
            self.name = int(ids.get(0))
            self._bind(pgl)
            minify = self.PGL.LINEAR_MIPMAP_LINEAR if self.levels > 1 else self.PGL.LINEAR
            for parameter, value in ((self.PGL.TEXTURE_MIN_FILTER, minify), (self.PGL.TEXTURE_MAG_FILTER, self.PGL.LINEAR),
                                     (self.PGL.TEXTURE_WRAP_S, self.PGL.CLAMP_TO_EDGE),
                                     (self.PGL.TEXTURE_WRAP_T, self.PGL.CLAMP_TO_EDGE),
                                     (GL_TEXTURE_MAX_LEVEL, self.levels - 1)):
                pgl.texParameteri(self.PGL.TEXTURE_2D, parameter, value)
            for level in range(self.levels):
                pgl.texImage2D(self.PGL.TEXTURE_2D, level, self.PGL.RGBA, max(1, self.width >> level),
                               max(1, self.height >> level), 0, self.PGL.RGBA, self.PGL.UNSIGNED_BYTE, None)
            pgl.bindTexture(self.PGL.TEXTURE_2D, 0)
        finally:
            sketch._instance.endPGL()

    def _bind(self, pgl) -> None:
        pgl.activeTexture(self.PGL.TEXTURE0)
        pgl.bindTexture(self.PGL.TEXTURE_2D, self.name)

    def bind(self, pgl) -> None:
        """Bind to texture unit 0 (inside beginPGL/endPGL; the quad shader samples unit 0)."""
        self._bind(pgl)

    def upload(self, level: int, x: int, y: int, rgba: np.ndarray) -> None:
        """Write an (h, w, 4) uint8 block at (x, y) of mip level `level` (call between frames' GL work)."""
        self.upload_many([(level, x, y, rgba)])

    def upload_many(self, blocks: list[tuple[int, int, int, np.ndarray]]) -> None:
        """Write several (level, x, y, rgba) blocks with one bind."""
        pgl = self.sketch._instance.beginPGL()
        try:
            self._bind(pgl)
            for level, x, y, rgba in blocks:
                data = np.ascontiguousarray(rgba)
                if data.size:
                    pgl.texSubImage2D(self.PGL.TEXTURE_2D, level, int(x), int(y), data.shape[1], data.shape[0],
                                      self.PGL.RGBA, self.PGL.UNSIGNED_BYTE, jpype.nio.convertToDirectBuffer(data))
            pgl.bindTexture(self.PGL.TEXTURE_2D, 0)
        finally:
            self.sketch._instance.endPGL()

    def delete(self) -> None:
        """Free the texture's memory now (it must not be drawn afterwards)."""
        if self.name:
            pgl = self.sketch._instance.beginPGL()
            try:
                pgl.deleteTextures(1, jpype.JClass("java.nio.IntBuffer").wrap(jpype.JArray(jpype.JInt)([self.name])))
            finally:
                self.sketch._instance.endPGL()
            self.name = 0


class TextureUpload:
    """A whole picture's mip levels uploaded into a GLTexture in bands of rows, a few per call of `step`."""

    def __init__(self, texture: GLTexture, levels: list[np.ndarray], band_rows: int = 128) -> None:
        self.texture = texture
        self._bands = self._plan(levels, band_rows)
        self.done = False

    @staticmethod
    def _plan(levels: list[np.ndarray], band_rows: int) -> Iterator[list[tuple[int, int, int, np.ndarray]]]:
        height = levels[0].shape[0]
        for top in range(0, height, band_rows):
            bottom = min(top + band_rows, height)
            yield [(level, 0, top >> level, pixels[top >> level:bottom >> level])
                   for level, pixels in enumerate(levels) if (bottom >> level) > (top >> level)]

    def step(self, budget_s: float) -> bool:
        """Upload bands (at least one) until `budget_s` seconds are spent; True once everything is uploaded."""
        started = time.perf_counter()
        while not self.done:
            band = next(self._bands, None)
            if band is None:
                self.done = True
                break
            self.texture.upload_many(band)
            if time.perf_counter() - started >= budget_s:
                break
        return self.done
