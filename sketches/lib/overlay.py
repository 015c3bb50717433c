"""Where the gallery's overlays go and what fits in them: pure geometry and text, no py5.

- `panel_position`: the hover panel beside the hovered image, on screen, never over the image when there is room
- `fit_text`: a file name shortened in the middle ("holiday-2019-...-beach.jpg") to fit a width
- `wrap_text`: a file name broken into lines that fit a width, preferably after / _ - . or a space
"""

from __future__ import annotations

from collections.abc import Callable

Rect = tuple[float, float, float, float]   # x0, y0, x1, y1 (screen pixels)

ELLIPSIS = "..."   # ASCII: every glyph of it is in the bundled font
BREAK_AFTER = "/_-. "   # a line may end after one of these; a name without them breaks anywhere


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


def wrap_text(text: str, width: float, measure: Callable[[str], float], max_lines: int = 4) -> list[str]:
    """`text` as lines whose `measure` is <= width, each as long as fits, broken after the last of
    BREAK_AFTER that fits (else anywhere); beyond `max_lines`, the last line is middle-shortened (fit_text)
    so that the name's end still shows."""
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines - 1 and measure(rest) > width:
        fits = max(1, _longest_prefix(rest, width, measure))
        breaks = [k + 1 for k in range(fits) if rest[k] in BREAK_AFTER and k + 1 < len(rest)]
        cut = breaks[-1] if breaks and breaks[-1] > fits // 3 else fits
        lines.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        lines.append(fit_text(rest, width, measure))
    return lines


def _longest_prefix(text: str, width: float, measure: Callable[[str], float]) -> int:
    """How many leading characters of `text` fit in `width` (binary search)."""
    low, high = 0, len(text)
    while low < high:
        keep = (low + high + 1) // 2
        if measure(text[:keep]) <= width:
            low = keep
        else:
            high = keep - 1
    return low


def _shortened(text: str, keep: int) -> str:
    """`keep` characters of `text` around an ellipsis, a little more of the end (the extension shows)."""
    tail = (keep + 1) // 2
    return text[:keep - tail] + ELLIPSIS + text[len(text) - tail:] if tail else text[:keep] + ELLIPSIS
