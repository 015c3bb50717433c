"""Command-line option types shared by the sketches, and the check of a frame size before anything is drawn."""

from __future__ import annotations

import argparse

import psutil

from layoutfile import UserError

MAX_SIDE = 16384        # a side no common graphics card's textures exceed; the card's own limit is checked in setup()
BYTES_PER_PIXEL = 24    # rough memory a frame costs per pixel: GL buffers, Java's pixel array, numpy copies read back


def window_size(text: str) -> tuple[int, int]:
    """'1920x1080' → (1920, 1080) (argparse type)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
        if width <= 0 or height <= 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels such as 1920x1080, not {text!r}")
    return width, height


def check_frame_size(width: int, height: int, max_side: int = MAX_SIDE, *, card: bool = False,
                     memory: bool = True) -> None:
    """Raise UserError (one line) for a frame wider or taller than `max_side` (`card`: the running graphics card's
    own limit), or, with `memory`, needing more memory to draw than the machine has available now."""
    if max(width, height) > max_side:
        whose = "this graphics card's limit" if card else "the texture limit of common graphics cards"
        raise UserError(f"--size {width}x{height}: larger than {max_side} px a side ({whose}); use a smaller size")
    if memory:
        need, available = width * height * BYTES_PER_PIXEL, psutil.virtual_memory().available
        if need > available:
            raise UserError(f"--size {width}x{height}: drawing it needs about {need / 2**30:.1f} GiB of memory, "
                            f"{available / 2**30:.1f} GiB are available; use a smaller size")
