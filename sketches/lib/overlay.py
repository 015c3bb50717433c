"""Where the gallery's overlays go and what fits in them: pure geometry and text, no py5.

- `panel_position`: the hover panel beside the hovered image, on screen, never over the image when there is room
- `fit_text`: a file name shortened in the middle ("holiday-2019-...-beach.jpg") to fit a width
"""

from __future__ import annotations

from collections.abc import Callable

Rect = tuple[float, float, float, float]   # x0, y0, x1, y1 (screen pixels)

ELLIPSIS = "..."   # ASCII: every glyph of it is in the bundled font


def panel_position(image: Rect, panel: tuple[float, float], window: tuple[float, float],
                   gap: float = 12, margin: float = 8) -> tuple[float, float]:
    """Top-left corner of a panel of size `panel` beside the screen rectangle `image`, inside `window`.

    Right of the image, else left, below, above (each slid along the image's side to stay on screen); the
    first that does not cover the image wins. If none can (the image fills the window), the one covering
    the least of it.
    """
    x0, y0, x1, y1 = image
    pw, ph = panel
    ww, wh = window

    def clamp(value: float, low: float, high: float) -> float:
        return min(max(value, low), max(low, high))

    candidates = [(x1 + gap, clamp(y0, margin, wh - ph - margin)),
                  (x0 - gap - pw, clamp(y0, margin, wh - ph - margin)),
                  (clamp(x0, margin, ww - pw - margin), y1 + gap),
                  (clamp(x0, margin, ww - pw - margin), y0 - gap - ph)]
    on_screen = [(clamp(x, margin, ww - pw - margin), clamp(y, margin, wh - ph - margin)) for x, y in candidates]

    def covered(corner: tuple[float, float]) -> float:
        px, py = corner
        return max(0.0, min(px + pw, x1) - max(px, x0)) * max(0.0, min(py + ph, y1) - max(py, y0))

    return min(on_screen, key=covered)   # min keeps the first of equals: the preferred side


def fit_text(text: str, width: float, measure: Callable[[str], float]) -> str:
    """`text`, or the longest middle-shortened form of it (start + ELLIPSIS + end) whose `measure` is <= width."""
    if measure(text) <= width:
        return text
    low, high = 0, len(text) - 1          # characters kept: low fits (at worst the ellipsis alone)
    while low < high:
        keep = (low + high + 1) // 2
        if measure(_shortened(text, keep)) <= width:
            low = keep
        else:
            high = keep - 1
    return _shortened(text, low)


def _shortened(text: str, keep: int) -> str:
    """`keep` characters of `text` around an ellipsis, a little more of the end (the extension shows)."""
    tail = (keep + 1) // 2
    return text[:keep - tail] + ELLIPSIS + text[len(text) - tail:] if tail else text[:keep] + ELLIPSIS
