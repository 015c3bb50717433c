"""The artist's choices for how the gallery looks and moves: one table, filled by the command line or the
installation config, taken by the Scene and the gallery sketch.

    python sketches/gallery.py my.json --background "#f4f1ea" --gap 0.1 --fly 4 --easing sine-in-out \\
        --layout combined --state grid --title "Harbour, 1,000 photographs" --title-size 28

or the same keys in an installation config ({"background": "#f4f1ea", "gap": 0.1, ...}). Each field of
`Look` is one key (its Rule says what a valid value is and what it does); the start layout is checked
against the layout file once it is read (layout.check_layout_name).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from layoutfile import STATES, layout_names

from .motion import DEFAULT_DURATION, DEFAULT_EASING, EASINGS, STAGGER
from .layout import GRID_IMAGE_SIZE
from .rules import checked, config_key, number, rules, seconds_key, text, whole

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _colour(value: Any) -> bool:
    return (whole(value) and 0 <= value <= 255) or (isinstance(value, str) and HEX_COLOUR.fullmatch(value) is not None)


def _colour_text(value: str) -> Any:
    return int(value) if value.isdigit() else value


def _number_text(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value


def _whole_text(value: str) -> Any:
    return int(value) if value.isdigit() else value


@dataclass(frozen=True)
class Look:
    """Colours, spacing, motion, the start picture and a title line; every key is optional."""

    background: int | str = config_key(24, 'a grey level 0-255 or "#rrggbb"', _colour,
                                        "colour behind the images", parse=_colour_text)
    gap: float = config_key(round(1 - GRID_IMAGE_SIZE, 6), "a share of a grid cell, 0 to 0.5",
                            lambda v: number(v) and 0 <= v <= 0.5, "space between neighbouring images in the grid",
                            lambda value, folder: float(value), _number_text)
    fly: float = seconds_key(DEFAULT_DURATION, "seconds a flight takes, first image leaving to last landing "
                                               "(keys t and b; a playlist sets its own)")
    stagger: float = config_key(STAGGER, "a share of the flight, 0 to 0.9", lambda v: number(v) and 0 <= v <= 0.9,
                                "how much of the flight the images' start delays spread over (0: all at once)",
                                lambda value, folder: float(value), _number_text)
    easing: str = config_key(DEFAULT_EASING, f"one of {', '.join(EASINGS)}", lambda v: v in EASINGS,
                             "how a flight speeds up and slows down")
    layout: str | None = config_key(None, "a layout name of the file, or null", lambda v: v is None or text(v),
                                    "layout shown first (null: the file's first layout)")
    state: str | None = config_key(None, f"{' or '.join(STATES)}, or null", lambda v: v is None or v in STATES,
                                   "state shown first: t-SNE positions or grid cells (null: tsne, or the "
                                   "playlist's first step)")
    title: str | None = config_key(None, "text or null", lambda v: v is None or isinstance(v, str),
                                   "a title line at the bottom left of the picture (null: none)")
    title_size: int = config_key(24, "a whole number of pixels, 8 to 200", lambda v: whole(v) and 8 <= v <= 200,
                                 "font size of the title line", parse=_whole_text)

    @property
    def background_rgb(self) -> tuple[int, int, int]:
        """The background as (r, g, b), 0-255."""
        if isinstance(self.background, int):
            return (self.background,) * 3
        return tuple(int(self.background[k:k + 2], 16) for k in (1, 3, 5))

    @property
    def image_side(self) -> float:
        """Side of a grid image in world units (grid cells)."""
        return 1.0 - self.gap

    def start(self, doc: dict) -> tuple[str, str]:
        """(layout, state) to show first in `doc`: the chosen ones, else its first layout and tsne."""
        return self.layout or layout_names(doc)[0], self.state or "tsne"


KEYS = rules(Look)


def make_look(data: dict, source: str | None, base: Look | None = None) -> Look:
    """`base` (default: the defaults) with the keys of `data` (JSON-like values) checked and set; without a
    `source` (the command line) a bad value's error names its option (--title-size)."""
    label = "'{}'".format if source else (lambda name: f"--{name.replace('_', '-')}")
    return dataclasses.replace(base or Look(), **checked(Look, data, source, label=label))


def add_look_options(parser: argparse.ArgumentParser, exclude: tuple[str, ...] = ()) -> None:
    """--background, --gap, --fly, ... : one option per key (dashes for underscores) but `exclude`d ones,
    unset unless given."""
    group = parser.add_argument_group("look (the same keys as in an installation config)")
    for name, rule in KEYS.items():
        if name in exclude:
            continue
        group.add_argument(f"--{name.replace('_', '-')}", dest=f"look_{name}", metavar="VALUE",
                           default=argparse.SUPPRESS, help=f"{rule.meaning}: {rule.expected}".replace("%", "%%"))


def look_options(args: argparse.Namespace) -> dict:
    """The look keys given on the command line, as values a JSON file would hold."""
    return {name: rule.parse(getattr(args, f"look_{name}")) for name, rule in KEYS.items()
            if hasattr(args, f"look_{name}")}
