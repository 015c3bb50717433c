"""Command-line option types shared by the sketches."""

from __future__ import annotations

import argparse


def window_size(text: str) -> tuple[int, int]:
    """'1920x1080' → (1920, 1080) (argparse type)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
        if width <= 0 or height <= 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels such as 1920x1080, not {text!r}")
    return width, height
