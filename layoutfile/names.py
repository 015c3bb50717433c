"""The names the layout-file contract fixes: its format, version, layouts and the states of an image."""

from __future__ import annotations

FORMAT = "tsne-gallery/layout"
VERSION = 2                      # readers take versions 1 to VERSION and reject newer ones
GENERATOR = "tsne-gallery"
LAYOUTS = ("blur", "combined")   # every file holds both; blur first (combined is aligned onto it)
STATES = ("tsne", "grid")        # where an image sits: its t-SNE position or its grid cell


def toggle(current: str, names: tuple[str, ...]) -> str:
    """The name after `current` in `names`, wrapping round: the other one of a pair (blur ⇄ combined)."""
    return names[(names.index(current) + 1) % len(names)]
