"""Sharper images when zoomed in: the images on screen are redrawn from a higher atlas level once settled.

Quality adapts to motion: while images fly, or while the view changes, only the smallest level is drawn
(what a flight needs, at a steady cost). Once the flight has landed and the view has been still for a
frame, the images on screen (at most MAX_SIDE_PX² / cell_px² of them) get their cells read from the
smallest level that is at least as sharp as they are shown (atlas.CellLoader, background thread); while
a zoomed-in view still moves, the cells it shows are already asked for (every PREFETCH_EVERY seconds), so
the sheet is being decoded by the time the view settles. Cells read are written, with their mip levels,
into their slots of one detail texture for UPLOAD_BUDGET_S a frame (STILL_UPLOAD_BUDGET_S while the view
is still), a run of neighbouring slots in one
upload per mip level (one call per cell and level cost ~20× more on software GL); the slots written so far
are drawn over the base quads with the same shader. When every cell is in, the base copies of those images
are hidden, so no pixel is drawn twice.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .motion import Animator
from .atlas import Atlas
from .gltexture import GLTexture, level_count
from .renderer import QuadBatch
from .view import View

MAX_SIDE_PX = 4096       # side of the detail texture at most
REBUILD_EVERY = 0.25     # seconds between redrawing the detail quads while cells are still arriving
UPLOAD_BUDGET_S = 0.004  # seconds of cell uploads per frame while the view moves
STILL_UPLOAD_BUDGET_S = 0.03   # ... and while it is still: the picture does not change, a longer frame is not seen
PREFETCH_EVERY = 0.1     # seconds between asking for the cells of a zoomed-in view that still moves


class DetailLayer:
    """The sharper copies of the images on screen (empty while flying and when zoomed out)."""

    def __init__(self, sketch, shader, atlas: Atlas, base: QuadBatch) -> None:
        self.sketch, self.atlas, self.base = sketch, atlas, base
        self.batch = QuadBatch(sketch, shader)
        self.level = 0
        self.wanted = np.zeros(0, np.int64)        # images to sharpen now (their cells can be read)
        self.shown = np.zeros(0, np.int64)         # images drawn by the detail batch
        self.hidden = False                        # the base batch leaves `shown` out
        self.texture: GLTexture | None = None
        self.slots_x = self.slots_y = 0                # slots per row and per column of the texture
        self.slot_of: dict[int, int] = {}          # image → slot in the texture
        self.written: set[int] = set()             # images whose cell is in their slot
        self.dirty = False                         # `shown` lags behind `wanted` / `written`
        self.failures_seen = 0
        self.last_key: tuple | None = None
        self.chosen_key: tuple | None = None
        self.last_rebuild = self.last_prefetch = -math.inf
        self.flying = False                        # images were in flight at the last update

    def update(self, view: View, animator: Animator, now: float) -> None:
        """Choose, read, upload and draw-prepare the images to sharpen; call once per frame before draw()."""
        self.flying = animator.is_animating(now)
        if self.flying:
            self.last_key = self.chosen_key = None
            if len(self.shown) or len(self.wanted):
                self._clear()
            return
        key = (view.key(), animator.version)
        settled, self.last_key = key == self.last_key, key
        if settled and key != self.chosen_key:
            self.chosen_key = key
            self._choose(view, animator)
        elif not settled and now - self.last_prefetch >= PREFETCH_EVERY:
            self.last_prefetch = now
            self._prefetch(view, animator)
        if self.level:
            self._drop_unavailable()
            self.dirty |= self._write_ready(STILL_UPLOAD_BUDGET_S if settled else UPLOAD_BUDGET_S)
            if self.dirty and (self._all_written() or now - self.last_rebuild >= REBUILD_EVERY):
                self._rebuild(animator, now)
        if self.complete and len(self.shown) and not self.hidden:
            self.base.hide(self.shown)
            self.hidden = True

    def draw(self, uniforms: dict) -> None:
        if len(self.shown):
            self.batch.draw(uniforms)

    @property
    def complete(self) -> bool:
        """Every wanted image is drawn from the detail texture."""
        return not self.dirty and self._all_written()

    def _all_written(self) -> bool:
        return all(int(i) in self.written for i in self.wanted)

    def is_sharp(self) -> bool:
        """True while images fly (drawn from the smallest level by design), else once the view has been settled
        for a frame and every image chosen for detail is drawn sharp."""
        return self.flying or (self.chosen_key == self.last_key and self.chosen_key is not None and self.complete)

    def dispose(self) -> None:
        self.batch.dispose()
        self._free_texture()

    # --- choosing ------------------------------------------------------------------------------------------
    def _pick(self, view: View, animator: Animator) -> tuple[int, np.ndarray]:
        """(level, images) the view needs sharper: the smallest level at least as sharp as they are shown and
        the images on screen that it can give; (0, none) when the smallest level is enough or too many show."""
        pixels = view.scale * float(animator.end[:, 2].max() if len(animator.end) else 1.0)
        pixels *= self.sketch.pixel_width / self.sketch.width
        levels = self.atlas.levels
        sharper = [i for i, level in enumerate(levels) if level["cell_px"] > self.atlas.base_cell_px]
        level = next((i for i in sharper if levels[i]["cell_px"] >= pixels), sharper[-1] if sharper else 0)
        indices = np.zeros(0, np.int64)
        if level and pixels > self.atlas.base_cell_px:
            x0, y0, x1, y1 = view.visible_world_rect()
            end = animator.end
            half = end[:, 2] / 2
            inside = ((end[:, 0] + half >= x0) & (end[:, 0] - half <= x1)
                      & (end[:, 1] + half >= y0) & (end[:, 1] - half <= y1))
            loader = self.atlas.loaders[level - 1]
            indices = np.array([i for i in np.flatnonzero(inside) if not loader.unavailable(i)], np.int64)
            if len(indices) > (MAX_SIDE_PX // levels[level]["cell_px"]) ** 2:
                indices = np.zeros(0, np.int64)
        return (level, indices) if len(indices) else (0, indices)

    def _prefetch(self, view: View, animator: Animator) -> None:
        """Ask for the cells a moving view shows now (read ahead of settling; nothing is drawn from them yet)."""
        level, indices = self._pick(view, animator)
        if level:
            self.atlas.loaders[level - 1].request(indices)

    def _choose(self, view: View, animator: Animator) -> None:
        level, indices = self._pick(view, animator)
        if level != self.level:
            self._clear()
            self._free_texture()
            self.level = level
        if level:
            self._assign_slots(indices)
            self.atlas.loaders[level - 1].request([i for i in indices if i not in self.written])
            self.dirty = True
        self.wanted = indices

    def _drop_unavailable(self) -> None:
        """Images whose sharper sheet turned out damaged stay at the smallest level."""
        loader = self.atlas.loaders[self.level - 1]
        if len(loader.failed) != self.failures_seen:
            self.failures_seen = len(loader.failed)
            self.wanted = np.array([i for i in self.wanted if not loader.unavailable(i)], np.int64)
            self.dirty = True

    def _assign_slots(self, indices: np.ndarray) -> None:
        """Keep the slots of images still wanted, give new ones free slots (a bigger texture if needed)."""
        cell = int(self.atlas.levels[self.level]["cell_px"])
        if self.slots_x * self.slots_y < len(indices):   # power-of-two sides: the same GL sampling as the sheets
            self._free_texture()
            width = min(MAX_SIDE_PX, power_of_two(math.ceil(math.sqrt(len(indices))) * cell))
            self.slots_x = width // cell
            self.slots_y = power_of_two(math.ceil(len(indices) / self.slots_x) * cell) // cell
            self.texture = GLTexture(self.sketch, width, self.slots_y * cell, level_count(cell))
        wanted = set(int(i) for i in indices)
        for i in [i for i in self.slot_of if i not in wanted]:
            del self.slot_of[i]
            self.written.discard(i)
        free = sorted(set(range(self.slots_x * self.slots_y)) - set(self.slot_of.values()), reverse=True)
        for i in indices:
            if int(i) not in self.slot_of:
                self.slot_of[int(i)] = free.pop()

    # --- uploading and drawing -----------------------------------------------------------------------------
    def _write_ready(self, budget_s: float) -> bool:
        """Write cells that have been read into their slots for about `budget_s`; True if any was written."""
        loader = self.atlas.loaders[self.level - 1]
        ready = []
        for i in self.wanted:
            i = int(i)
            levels = None if i in self.written else loader.get(i)
            if levels is not None:
                ready.append((self.slot_of[i], i, levels))
        started, wrote = time.perf_counter(), False
        for run in slot_runs(sorted(ready, key=lambda item: item[0]), self.slots_x):
            x, y = self._slot_origin(run[0][0], loader.cell_px)
            self.texture.upload_many([(lv, x >> lv, y >> lv, np.concatenate([levels[lv] for _, _, levels in run], axis=1))
                                      for lv in range(len(run[0][2]))])
            self.written.update(i for _, i, _ in run)
            wrote = True
            if time.perf_counter() - started >= budget_s:
                break
        return wrote

    def _rebuild(self, animator: Animator, now: float) -> None:
        """Draw the written cells: detail quads at the images' resting places."""
        ready = np.array([i for i in self.wanted if i in self.written], np.int64)
        cell = self.atlas.levels[self.level]["cell_px"]
        x, y = self._slot_origin(np.array([self.slot_of[int(i)] for i in ready], np.int64), cell)
        uv = np.stack([(x + 0.5) / self.texture.width, (y + 0.5) / self.texture.height,
                       (x + cell - 0.5) / self.texture.width, (y + cell - 0.5) / self.texture.height], axis=1)
        self.batch.set_quads([self.texture], np.zeros(len(ready), np.int64), uv)
        rest = animator.end[ready]
        self.batch.set_motion(rest, rest, np.zeros(len(ready), np.float32))
        self.shown, self.last_rebuild, self.dirty = ready, now, False
        if self.hidden:
            self.base.hide(ready)

    def _slot_origin(self, slot, cell: int):
        """Top-left texel (x, y) of slot(s) in the detail texture (row-major, slots_x a row)."""
        return (slot % self.slots_x) * cell, (slot // self.slots_x) * cell

    def _clear(self) -> None:
        """Stop sharpening (the images fly, or nothing needs it): the base level draws every image again."""
        self.wanted = self.shown = np.zeros(0, np.int64)
        self.dirty = False
        if self.hidden:
            self.base.hide(np.zeros(0, np.int64))
            self.hidden = False
        for loader in self.atlas.loaders:
            loader.request([])

    def _free_texture(self) -> None:
        if self.texture is not None:
            self.texture.delete()
        self.texture, self.slots_x, self.slots_y = None, 0, 0
        self.slot_of.clear()
        self.written.clear()


def slot_runs(items: list[tuple], per_row: int) -> list[list[tuple]]:
    """(slot, ...) items sorted by slot, grouped into runs of consecutive slots within one texture row."""
    runs: list[list[tuple]] = []
    for item in items:
        slot = item[0]
        if runs and slot == runs[-1][-1][0] + 1 and slot % per_row:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def power_of_two(n: int) -> int:
    """The smallest power of two >= n (n >= 1)."""
    return 1 << max(0, int(n) - 1).bit_length()
