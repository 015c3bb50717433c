"""The names the layout-file contract fixes: its format, version, layouts and the states of an image."""

from __future__ import annotations

FORMAT = "tsne-gallery/layout"
VERSION = 3                      # readers take versions 1 to VERSION and reject newer ones
GENERATOR = "tsne-gallery"
LAYOUTS = ("blur", "combined")   # the default build's layouts, colour first; version 1 and 2 files hold exactly these
NAME_PATTERN = r"[a-z0-9][a-z0-9_-]{0,39}"   # a layout's name (version 3): 1 to 40 of a-z 0-9 _ -
STATES = ("tsne", "grid")        # where an image sits: its t-SNE position or its grid cell


def layout_names(doc: dict) -> list[str]:
    """The names of a document's layouts, in file order (colour first, objects last for a dial)."""
    return list(doc["layouts"])


def toggle(current: str, names: tuple[str, ...]) -> str:
    """The name after `current` in `names`, wrapping round: the other one of a pair (blur ⇄ combined)."""
    return names[(names.index(current) + 1) % len(names)]
