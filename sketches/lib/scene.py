"""The gallery's images as one object: where they are going, the view, and drawing them.

Times are seconds given by the caller (`now`): the gallery passes millis() / 1000, the recorder
frame_count / fps. Nothing here reads a clock.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from layoutfile import LAYOUTS, STATES

from .animator import DEFAULT_DURATION, DEFAULT_EASING, EASINGS, Animator
from .atlas import Atlas
from .detail import DetailLayer
from .layout import grid_size, world_positions
from .renderer import QuadBatch, load_quad_shader
from .view import View

IMAGE_SIZE = 0.94   # side of an image in world units (grid cells), leaving a thin gap


class Scene:
    """All images of a layout document, flying between layouts/states, drawn in a few draw calls."""

    def __init__(self, sketch, doc: dict, layout_path: Path, layout: str = "blur", state: str = "tsne") -> None:
        """Build textures, vertex buffers and shader (call in setup()); images start at rest at (layout, state)."""
        self.sketch, self.layout_path = sketch, Path(layout_path)
        self.shader = load_quad_shader(sketch)
        self.layout, self.state = check_target(layout, state)
        self.view = View(sketch.width, sketch.height, *grid_size(doc))
        self._load(doc)
        self.animator = Animator(self.positions[self.layout, self.state])

    def _load(self, doc: dict) -> None:
        self.doc = doc
        self.positions = world_positions(doc)
        self.atlas = Atlas(self.sketch, doc, self.layout_path)
        self.base = QuadBatch(self.sketch, self.shader)
        self.base.set_quads(self.atlas.textures, self.atlas.sheet, self.atlas.uv(0))
        self.draw_rank = np.empty(len(self.base.order), np.int64)
        self.draw_rank[self.base.order] = np.arange(len(self.base.order))
        self.detail = DetailLayer(self.sketch, self.shader, self.atlas)
        self.uploaded_version = -1

    def go_to(self, layout: str, state: str, now: float, duration: float | None = None,
              easing: str = DEFAULT_EASING) -> None:
        """Fly every image from where it is at `now` to its place in (layout, state).

        `duration` (seconds, default animator.DEFAULT_DURATION) spans the whole flock, stagger included;
        `easing` is one of animator.EASINGS: linear, sine-in-out, quad-in-out, cubic-in-out, quint-in-out,
        expo-in-out, back-out.
        """
        self.layout, self.state = check_target(layout, state)
        self.animator.retarget(self.positions[layout, state], now,
                               DEFAULT_DURATION if duration is None else duration, easing)

    def jump_to(self, layout: str, state: str) -> None:
        """Put every image at its place in (layout, state) at once."""
        self.layout, self.state = check_target(layout, state)
        self.animator.jump(self.positions[layout, state])

    def is_animating(self, now: float) -> bool:
        return self.animator.is_animating(now)

    def draw(self, now: float) -> None:
        """Draw the images as they are at `now` (the CPU work does not grow with the number of images).

        The first frames also turn the atlas sheets into textures (images appear as their sheet loads);
        raises UserError if a sheet cannot be decoded.
        """
        self.atlas.load_sheets(self.sketch)
        animator = self.animator
        if self.uploaded_version != animator.version:
            self.base.set_motion(animator.start, animator.end, animator.delay)
            self.uploaded_version = animator.version
        sx, sy, ox, oy = self.view.clip_transform()
        uniforms = {"viewScale": (sx, sy), "viewOffset": (ox, oy), "elapsed": (animator.elapsed(now),),
                    "moveTime": (animator.move_time,), "easing": (float(EASINGS.index(animator.easing)),),
                    "imageSize": (IMAGE_SIZE,)}
        self.base.draw(uniforms)
        self.detail.update(self.view, animator, now)
        self.detail.draw(uniforms)

    def is_sharp(self) -> bool:
        """True when every atlas sheet is loaded and the images on screen are drawn from the sharpest
        level they need (after draw())."""
        return self.atlas.loaded and self.detail.is_sharp()

    def replace_layout(self, doc: dict, now: float, layout_path: Path | None = None) -> None:
        """Switch to another document (hot reload): images fly from where they are to their new places.

        Images are matched by id; new ones start at their destination, gone ones disappear. Atlas files
        are found beside `layout_path` (default: the current file's). The view is left alone (call
        view.fit() to reframe).
        """
        if layout_path is not None:
            self.layout_path = Path(layout_path)
        current = self.animator.positions(now)
        old_index = {image["id"]: i for i, image in enumerate(self.doc["images"])}
        self.dispose()
        self._load(doc)
        self.view.set_world(*grid_size(doc))
        target = self.positions[self.layout, self.state]
        start = target.copy()
        for i, image in enumerate(doc["images"]):
            j = old_index.get(image["id"])
            if j is not None:
                start[i] = current[j]
        self.animator = Animator(start)
        self.animator.retarget(target, now, DEFAULT_DURATION, DEFAULT_EASING, start=start)

    def image_at(self, x: float, y: float, now: float) -> int | None:
        """Index into doc["images"] of the image drawn on top at screen point (x, y), or None."""
        wx, wy = self.view.to_world(x, y)
        positions = self.animator.positions(now)
        half = IMAGE_SIZE / 2
        hits = np.flatnonzero((np.abs(positions[:, 0] - wx) <= half) & (np.abs(positions[:, 1] - wy) <= half))
        if len(hits) == 0:
            return None
        return int(hits[np.argmax(self.draw_rank[hits])])

    def thumbnail(self, index: int) -> tuple[object, bool]:
        """(Py5Image, sharp) of images[index]: from the sharpest atlas level once read (sharp=True), else the smallest."""
        cell = self.atlas.hover_loader.get(index)
        if cell is None and self.atlas.loaders:  # already read for the zoomed-in view: don't decode its sheet again
            cell = self.atlas.loaders[-1].get(index)
        if cell is not None:
            return self.sketch.create_image_from_numpy(cell, "RGB"), True
        if len(self.atlas.levels) > 1:
            self.atlas.hover_loader.request([index])
        image = self.atlas.base_cell_image(self.sketch, index)
        return image, image is not None and len(self.atlas.levels) == 1

    def dispose(self) -> None:
        """Stop background readers and free GPU buffers."""
        self.atlas.dispose()
        self.base.dispose()
        self.detail.dispose()


def check_target(layout: str, state: str) -> tuple[str, str]:
    """(layout, state) if both are known names; ValueError otherwise."""
    if layout not in LAYOUTS or state not in STATES:
        raise ValueError(f"unknown layout/state {layout!r}/{state!r}: layouts {LAYOUTS}, states {STATES}")
    return layout, state
