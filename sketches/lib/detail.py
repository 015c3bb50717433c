"""Sharper images when zoomed in: the few images on screen are redrawn from a higher atlas level.

When one image covers more screen pixels than a cell of the smallest level, the images whose flight
passes through the window (at most MAX_SIDE_PX² / cell_px² of them) get their cells read from the
smallest level that is at least that sharp (atlas.CellLoader, background thread); the cells read so
far are packed into one texture and drawn over the base quads with the same shader and flight. The
choice is made when the view has stopped changing for a frame, so panning costs nothing extra.
"""

from __future__ import annotations

import numpy as np

from .animator import Animator
from .atlas import Atlas
from .renderer import QuadBatch
from .view import View

MAX_SIDE_PX = 4096     # side of the packed detail texture
REBUILD_EVERY = 0.25   # seconds between repacks while cells are still arriving


class DetailLayer:
    """The sharper copies of the images on screen (empty when zoomed out)."""

    def __init__(self, sketch, shader, atlas: Atlas) -> None:
        self.sketch, self.atlas = sketch, atlas
        self.batch = QuadBatch(sketch, shader)
        self.indices = np.zeros(0, np.int64)   # images wanted now
        self.level = 0
        self.shown = np.zeros(0, np.int64)     # images packed into the current batch
        self.complete = True                   # every wanted image is packed
        self.motion_version = -1
        self.last_key: tuple | None = None
        self.chosen_key: tuple | None = None
        self.last_rebuild = -1e9

    def update(self, view: View, animator: Animator, now: float) -> None:
        """Choose, read and pack the images to sharpen; call once per frame before draw()."""
        key = (view.key(), animator.version)
        settled, self.last_key = key == self.last_key, key
        if settled and key != self.chosen_key:
            self.chosen_key = key
            self._choose(view, animator)
        if not self.complete and now - self.last_rebuild >= REBUILD_EVERY:
            self._pack(animator, now)
        if len(self.shown) and self.motion_version != animator.version:
            self.batch.set_motion(animator.start[self.shown], animator.end[self.shown], animator.delay[self.shown])
            self.motion_version = animator.version

    def draw(self, uniforms: dict) -> None:
        if len(self.shown):
            self.batch.draw(uniforms)

    def is_sharp(self) -> bool:
        """True once the view has been settled for a frame and every image chosen for detail is packed."""
        return self.chosen_key == self.last_key and self.complete

    def dispose(self) -> None:
        self.batch.dispose()

    def _choose(self, view: View, animator: Animator) -> None:
        pixels = view.scale * self.sketch.pixel_width / self.sketch.width
        sharper = [i for i, level in enumerate(self.atlas.levels) if level["cell_px"] > self.atlas.base_cell_px]
        level = next((i for i in sharper if self.atlas.levels[i]["cell_px"] >= pixels), sharper[-1] if sharper else 0)
        indices = np.zeros(0, np.int64)
        if level and pixels > self.atlas.base_cell_px:
            x0, y0, x1, y1 = view.visible_world_rect()
            lo = np.minimum(animator.start, animator.end) - 1
            hi = np.maximum(animator.start, animator.end) + 1
            inside = (hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)
            indices = np.flatnonzero(inside)
            if len(indices) > (MAX_SIDE_PX // self.atlas.levels[level]["cell_px"]) ** 2:
                indices = np.zeros(0, np.int64)
        level = level if len(indices) else 0
        if level != self.level:
            self.shown = np.zeros(0, np.int64)
        if level != self.level or not np.array_equal(indices, self.indices):
            self.level, self.indices, self.complete, self.last_rebuild = level, indices, not level, -1e9
            if level:
                self.atlas.loaders[level - 1].request(indices)

    def _pack(self, animator: Animator, now: float) -> None:
        loader = self.atlas.loaders[self.level - 1]
        ready = np.array([i for i in self.indices if loader.get(i) is not None], np.int64)
        self.complete = len(ready) == len(self.indices)
        if len(ready) == 0 or np.array_equal(ready, self.shown):
            return
        cell = loader.cell_px
        side = int(np.ceil(np.sqrt(len(ready))))
        pixels = np.zeros((side * cell, side * cell, 3), np.uint8)
        slots = np.arange(len(ready))
        x, y = (slots % side) * cell, (slots // side) * cell
        for i, sx, sy in zip(ready, x, y):
            pixels[sy:sy + cell, sx:sx + cell] = loader.get(i)
        texture = self.sketch.create_image_from_numpy(pixels, "RGB")
        size = side * cell
        uv = np.stack([x + 0.5, y + 0.5, x + cell - 0.5, y + cell - 0.5], axis=1) / size
        self.batch.set_quads([texture], np.zeros(len(ready), np.int64), uv)
        self.shown, self.motion_version, self.last_rebuild = ready, -1, now
        self.batch.set_motion(animator.start[ready], animator.end[ready], animator.delay[ready])
        self.motion_version = animator.version
