"""Zoom and pan: screen = world * scale + offset (uniform scale; world units = grid cells)."""

from __future__ import annotations

import numpy as np

MARGIN = 0.03          # of the window, on each side, in the default framing
MIN_ZOOM_OUT = 0.25    # the smallest scale, relative to the default framing
MAX_IMAGE_PX = 2048.0  # the largest scale: one world unit (one image) this many pixels wide


class View:
    """Maps world units to screen pixels; zooming keeps the point under the cursor fixed."""

    def __init__(self, width: float, height: float, world_width: float, world_height: float) -> None:
        self.width, self.height = float(width), float(height)
        self.world_width, self.world_height = float(world_width), float(world_height)
        self.scale, self.offset_x, self.offset_y = 1.0, 0.0, 0.0
        self.fit()

    def fit(self) -> None:
        """Default framing: the whole world box scaled uniformly to fit the window, centred."""
        self.scale = self.fit_scale()
        self.offset_x = (self.width - self.world_width * self.scale) / 2
        self.offset_y = (self.height - self.world_height * self.scale) / 2

    def fit_scale(self) -> float:
        """The scale of the default framing."""
        return min(self.width * (1 - 2 * MARGIN) / self.world_width,
                   self.height * (1 - 2 * MARGIN) / self.world_height)

    def set_world(self, world_width: float, world_height: float) -> None:
        """Change the world box (another grid size) without moving the view."""
        self.world_width, self.world_height = float(world_width), float(world_height)

    def resize(self, width: float, height: float) -> None:
        """Follow a new window size, keeping the world point at the window centre in the centre."""
        cx, cy = self.to_world(self.width / 2, self.height / 2)
        self.width, self.height = float(width), float(height)
        self.offset_x, self.offset_y = self.width / 2 - cx * self.scale, self.height / 2 - cy * self.scale

    def zoom_at(self, x: float, y: float, factor: float) -> None:
        """Multiply the scale by `factor` (clamped) keeping the world point under screen (x, y) fixed."""
        wx, wy = self.to_world(x, y)
        fit = self.fit_scale()
        self.scale = float(np.clip(self.scale * factor, fit * MIN_ZOOM_OUT, max(fit, MAX_IMAGE_PX)))
        self.offset_x, self.offset_y = x - wx * self.scale, y - wy * self.scale

    def pan(self, dx: float, dy: float) -> None:
        """Move the picture by (dx, dy) screen pixels."""
        self.offset_x += dx
        self.offset_y += dy

    def to_world(self, x, y):
        """Screen pixels → world units (scalars or numpy arrays)."""
        return (x - self.offset_x) / self.scale, (y - self.offset_y) / self.scale

    def to_screen(self, wx, wy):
        """World units → screen pixels (scalars or numpy arrays)."""
        return wx * self.scale + self.offset_x, wy * self.scale + self.offset_y

    def visible_world_rect(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1): the world rectangle the window shows."""
        x0, y0 = self.to_world(0.0, 0.0)
        x1, y1 = self.to_world(self.width, self.height)
        return x0, y0, x1, y1

    def clip_transform(self) -> tuple[float, float, float, float]:
        """(sx, sy, ox, oy) with clip = world * (sx, sy) + (ox, oy), for the vertex shader (y down on screen)."""
        return (2 * self.scale / self.width, -2 * self.scale / self.height,
                2 * self.offset_x / self.width - 1, 1 - 2 * self.offset_y / self.height)

    def key(self) -> tuple[float, ...]:
        """Everything that defines the view, to notice changes."""
        return self.scale, self.offset_x, self.offset_y, self.width, self.height
