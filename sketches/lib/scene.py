"""The gallery's images as one object: where they are going, the view, and drawing them.

Times are seconds given by the caller (`now`): the gallery passes millis() / 1000, the recorder
frame_count / fps. Nothing here reads a clock.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from layoutfile import STATES, layout_names

from .motion import EASINGS, Animator
from .atlas import Atlas
from .detail import DetailLayer
from .layout import grid_size, world_positions
from .look import Look
from .memory import keep_big_buffers_out_of_the_heap, release_free_memory
from .renderer import QuadBatch, load_quad_shader
from .view import View

BACKGROUND = Look().background    # grey level behind the images by default (look.py: the artist's choice)
OUTLINE_PX = 1.0                  # a dark line inside every image's edge: touching images stay apart
OUTLINE_COLOUR = (0.04, 0.04, 0.04)   # darker than the background, so an outline never reads as a gap


class Scene:
    """All images of a layout document, flying between layouts/states, drawn in a few draw calls."""

    def __init__(self, sketch, doc: dict, layout_path: Path, layout: str | None = None, state: str = "tsne",
                 look: Look | None = None) -> None:
        """Build textures, vertex buffers and shader (call in setup()); images start at rest at (layout, state)
        (layout: any of the document's, default its first). `look` gives the tile gap and the flights' default
        duration, stagger and easing (look.py)."""
        keep_big_buffers_out_of_the_heap()
        self.look = Look() if look is None else look
        self.sketch, self.layout_path = sketch, Path(layout_path)
        self.shader = load_quad_shader(sketch)
        self.view = View(sketch.width, sketch.height, *grid_size(doc))
        self.pending: PendingLayout | None = None
        self._load(doc, Atlas(sketch, doc, self.layout_path, eager=True))
        self.layout, self.state = self.check_target(layout_names(doc)[0] if layout is None else layout, state)
        self.animator = Animator(self.positions[self.layout, self.state], self.look.stagger)

    def _load(self, doc: dict, atlas: Atlas) -> None:
        self.doc, self.atlas = doc, atlas
        self.positions = world_positions(doc, self.look.image_side)
        self.base = QuadBatch(self.sketch, self.shader)
        self.base.set_quads(self.atlas.textures, self.atlas.sheet, self.atlas.uv(0))
        self.draw_rank = np.empty(len(self.base.order), np.int64)
        self.draw_rank[self.base.order] = np.arange(len(self.base.order))
        self.detail = DetailLayer(self.sketch, self.shader, self.atlas, self.base)
        self.uploaded_version = -1

    def go_to(self, layout: str, state: str, now: float, duration: float | None = None,
              easing: str | None = None) -> None:
        """Fly every image from where it is at `now` to its place in (layout, state).

        `duration` (seconds, default the look's `fly`) spans the whole flock, stagger included; `easing`
        (default the look's) is one of motion.EASINGS: linear, sine-in-out, quad-in-out, cubic-in-out,
        quint-in-out, expo-in-out, back-out.
        """
        self.layout, self.state = self.check_target(layout, state)
        self.animator.retarget(self.positions[layout, state], now, self.look.fly if duration is None else duration,
                               self.look.easing if easing is None else easing)

    def jump_to(self, layout: str, state: str) -> None:
        """Put every image at its place in (layout, state) at once."""
        self.layout, self.state = self.check_target(layout, state)
        self.animator.jump(self.positions[layout, state])

    @property
    def layout_names(self) -> list[str]:
        """The current document's layouts, in file order."""
        return layout_names(self.doc)

    def check_target(self, layout: str, state: str) -> tuple[str, str]:
        """(layout, state) if the document has that layout and `state` is a state; ValueError otherwise."""
        if (layout, state) not in self.positions:
            raise ValueError(f"unknown layout/state {layout!r}/{state!r}: layouts {', '.join(self.layout_names)}, "
                             f"states {', '.join(STATES)}")
        return layout, state

    def is_animating(self, now: float) -> bool:
        return self.animator.is_animating(now)

    def draw(self, now: float) -> None:
        """Draw the images as they are at `now` (the CPU work does not grow with the number of images).

        The first frames also upload the atlas sheets, a little each frame (images appear as their
        sheet is complete); once images have landed, sharper copies are read and uploaded likewise.
        """
        self.atlas.load_sheets()
        if self.pending is not None and self.pending.atlas.load_sheets():
            self._take_over(now)
        animator = self.animator
        if self.uploaded_version != animator.version:
            self.base.set_motion(animator.start, animator.end, animator.delay)
            self.uploaded_version = animator.version
        sx, sy, ox, oy = self.view.clip_transform()
        uniforms = {"viewScale": (sx, sy), "viewOffset": (ox, oy), "pixelsPerUnit": (self.view.scale,),
                    "outlinePx": (OUTLINE_PX * self.sketch.pixel_width / self.sketch.width,),
                    "outlineColour": OUTLINE_COLOUR, "elapsed": (animator.elapsed(now),),
                    "moveTime": (animator.move_time,), "easing": (float(EASINGS.index(animator.easing)),)}
        self.detail.update(self.view, animator, now)   # first: it may hide or show base quads for this frame
        self.base.draw(uniforms)
        self.detail.draw(uniforms)

    def is_sharp(self) -> bool:
        """True when every atlas sheet is loaded and the images on screen are drawn from the sharpest
        level they need (after draw())."""
        return self.atlas.loaded and self.pending is None and self.detail.is_sharp()

    def replace_layout(self, doc: dict, layout_path: Path | None = None, fit: bool = False) -> None:
        """Switch to another document (hot reload) once its atlas is loaded; until then the current picture
        stays and moves on. Then the images fly from where they are to their new places: matched by id,
        new ones start at their destination, gone ones disappear. Atlas files are found beside `layout_path`
        (default: the current file's). `fit` reframes the view then; otherwise it is left alone.
        """
        if self.pending is not None:
            self.pending.atlas.dispose()
        path = self.layout_path if layout_path is None else Path(layout_path)
        self.pending = PendingLayout(doc, path, Atlas(self.sketch, doc, path), fit)

    @property
    def reloading(self) -> bool:
        """True while a replaced layout's atlas is still loading."""
        return self.pending is not None

    def _take_over(self, now: float) -> None:
        """The pending layout replaces the current one; its images fly from where the old ones are."""
        pending, self.pending = self.pending, None
        current = self.animator.positions(now)
        old_index = {image["id"]: i for i, image in enumerate(self.doc["images"])}
        self.dispose()
        self.layout_path = pending.path
        self._load(pending.doc, pending.atlas)
        self.view.set_world(*grid_size(pending.doc))
        if pending.fit:
            self.view.fit()
        if self.layout not in pending.doc["layouts"]:   # the new file has other layouts: show its first
            self.layout = self.layout_names[0]
        target = self.positions[self.layout, self.state]
        start = target.copy()
        for i, image in enumerate(pending.doc["images"]):
            j = old_index.get(image["id"])
            if j is not None:
                start[i] = current[j]
        self.animator = Animator(start, self.look.stagger)
        self.animator.retarget(target, now, self.look.fly, self.look.easing, start=start)
        gc.collect()            # the replaced layout's objects held in reference cycles go now, not some reloads later
        release_free_memory()

    def image_at(self, x: float, y: float, now: float) -> int | None:
        """Index into doc["images"] of the image drawn on top at screen point (x, y), or None."""
        wx, wy = self.view.to_world(x, y)
        placed = self.animator.positions(now)
        half = placed[:, 2] / 2
        hits = np.flatnonzero((np.abs(placed[:, 0] - wx) <= half) & (np.abs(placed[:, 1] - wy) <= half))
        if len(hits) == 0:
            return None
        return int(hits[np.argmax(self.draw_rank[hits])])

    def thumbnail(self, index: int) -> tuple[np.ndarray | None, bool]:
        """(RGB pixels, sharp) of images[index]'s cell without waiting: the sharpest level's once read
        (sharp=True), before that the smallest level's (None until read); both are asked for on threads."""
        small, sharp = self.atlas.hover_loaders
        cell = sharp.get(index)
        if cell is None and self.atlas.loaders:   # already read for the zoomed-in view: no second decode
            cell = self.atlas.loaders[-1].get(index)
        if cell is not None:
            return cell[0][..., :3], True
        if not sharp.unavailable(index):
            sharp.request([index])
        small.request([index])
        cell = small.get(index)
        if cell is None:
            return None, False
        return cell[0][..., :3], sharp.unavailable(index) or len(self.atlas.levels) == 1

    def dispose(self) -> None:
        """Stop background readers and free GPU buffers and textures."""
        self.atlas.dispose()
        self.base.dispose()
        self.detail.dispose()


@dataclass(frozen=True)
class PendingLayout:
    """A layout waiting for its atlas to load before it replaces the current one."""

    doc: dict
    path: Path
    atlas: Atlas
    fit: bool
