"""Where the hover panel goes and how a long file name is shortened (pure geometry and text, no py5)."""

import pytest

from sketches.lib.overlay import ELLIPSIS, fit_text, panel_position, wrap_text

WINDOW = (960, 540)
PANEL = (200, 224)


def overlaps(image, corner, panel=PANEL) -> bool:
    x0, y0, x1, y1 = image
    px, py = corner
    return px < x1 and px + panel[0] > x0 and py < y1 and py + panel[1] > y0


def on_screen(corner, panel=PANEL, window=WINDOW) -> bool:
    return 0 <= corner[0] and corner[0] + panel[0] <= window[0] and 0 <= corner[1] and corner[1] + panel[1] <= window[1]


@pytest.mark.parametrize("image, side", [
    ((100, 100, 160, 160), "right"),      # room on the right: beside it
    ((880, 100, 940, 160), "left"),       # at the right edge: to its left
    ((880, 480, 940, 530), "left"),       # bottom-right corner: to its left, slid up onto the screen
    ((10, 150, 950, 200), "below"),       # a wide image: below it
    ((10, 300, 950, 530), "above"),       # ... near the bottom: above it
])
def test_the_panel_sits_beside_the_image_on_screen(image, side):
    corner = panel_position(image, PANEL, WINDOW)
    assert on_screen(corner) and not overlaps(image, corner)
    x, y = corner
    assert {"right": x >= image[2], "left": x + PANEL[0] <= image[0], "below": y >= image[3],
            "above": y + PANEL[1] <= image[1]}[side]


def test_an_image_filling_the_window_still_gets_a_panel_on_screen():
    assert on_screen(panel_position((-500, -500, 1500, 1500), PANEL, WINDOW))


def test_long_names_are_shortened_in_the_middle_to_fit():
    width = lambda text: 7 * len(text)   # a monospaced measure: 7 px a character
    name = "holidays/2019/a-very-long-name-from-the-camera-roll_0001.jpg"
    short = fit_text(name, 192, width)
    assert width(short) <= 192 and width(short) > 192 - 2 * 7       # as long as fits
    assert ELLIPSIS in short and short.startswith("holidays") and short.endswith("_0001.jpg")
    assert fit_text("a.jpg", 192, width) == "a.jpg"
    assert fit_text(name, 7, width) == ELLIPSIS


def test_long_names_wrap_whole_breaking_after_separators():
    width = lambda text: 7 * len(text)   # 7 px a character: 27 characters a 192 px line
    name = "holidays/2019/a-very-long-name-from-the-camera-roll_0001.jpg"
    lines = wrap_text(name, 192, width)
    assert "".join(lines) == name                                   # nothing cut
    assert all(width(line) <= 192 for line in lines) and len(lines) == 3
    assert lines[0] == "holidays/2019/a-very-long-" and lines[1][-1] in "/_-. "   # broken after separators
    assert wrap_text("a.jpg", 192, width) == ["a.jpg"]
    unbroken = "x" * 60
    assert wrap_text(unbroken, 70, width) == ["x" * 10] * 3 + ["x" * 3 + ELLIPSIS + "x" * 4]   # 4 lines at most
