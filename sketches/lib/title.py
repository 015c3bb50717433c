"""The look's title line (look.Look.title): bottom left of the picture, on a band of the background colour.

Drawn by the gallery and the recorder. A py5 font is made at one size (text at other sizes is scaled and
blurred), so the title has a font of its own, made at `title_size` once.
"""

from __future__ import annotations

from .look import Look

FONT = "SansSerif"   # Java's logical sans-serif: present wherever Java is


class TitleLine:
    """The title of `look` for `sketch` (call in setup(); draw() after the images, once per frame)."""

    def __init__(self, sketch, look: Look) -> None:
        self.sketch, self.look = sketch, look
        self.font = sketch.create_font(FONT, look.title_size) if look.title else None

    def draw(self) -> None:
        """Light text on a dark background, dark on a light one; sets the sketch's font to the title's."""
        if self.font is None:
            return
        s, look = self.sketch, self.look
        s.text_font(self.font)
        margin = max(12, look.title_size // 2)
        s.no_stroke()
        s.fill(*look.background_rgb, 210)   # a band of the background: legible over the images
        s.rect(0, s.height - look.title_size - 2 * margin, s.text_width(look.title) + 2 * margin,
               look.title_size + 2 * margin)
        s.fill(20 if sum(look.background_rgb) > 3 * 140 else 235)
        s.text_align(s.LEFT, s.BOTTOM)
        s.text(look.title, margin, s.height - margin)
