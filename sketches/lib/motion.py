"""Motion: how every image flies between two sets of placements: easing, stagger and the path.

A placement is a row (x, y, side) of an (N, 3) array (world units): position and size fly together, so an
image grows or shrinks on its way between the t-SNE state and the grid. (N, 2) positions work the same.

This module and the vertex shader beside it (SHADER, shaders/quads.vert) are twins: the GPU moves the
images every frame with `ease()` and `main()` there; `ease` and `path` here are the same formulas in numpy,
so an interrupted flight can restart from where the images are (an O(N) numpy step at a retarget, never per
frame), hover can find an image mid-flight, and a sketch of your own can move images without the shader
(sketches/examples/fly_between.py). tests/sketches/test_motion.py renders frames and checks they agree.

Easing names (EASINGS; shaders/quads.vert implements the same formulas by index):
  linear, sine-in-out, quad-in-out, cubic-in-out (default), quint-in-out, expo-in-out, back-out (overshoots a little).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SHADER = Path(__file__).parent / "shaders" / "quads.vert"   # the GPU twin of ease() and path()
EASINGS = ("linear", "sine-in-out", "quad-in-out", "cubic-in-out", "quint-in-out", "expo-in-out", "back-out")
DEFAULT_EASING = "cubic-in-out"
DEFAULT_DURATION = 2.5   # seconds, whole flock: first image leaves → last arrives
STAGGER = 0.4            # share of the duration spread over the images' start delays


def ease(t: np.ndarray, easing: str = DEFAULT_EASING) -> np.ndarray:
    """Eased progress for t in [0, 1] (0 → 0, 1 → 1); same formulas as ease() in quads.vert."""
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    lower = t < 0.5
    if easing == "linear":
        return t
    if easing == "sine-in-out":
        return 0.5 - 0.5 * np.cos(np.pi * t)
    if easing in ("quad-in-out", "cubic-in-out", "quint-in-out"):
        power = {"quad-in-out": 2, "cubic-in-out": 3, "quint-in-out": 5}[easing]
        return np.where(lower, 2 ** (power - 1) * t ** power, 1 - (2 - 2 * t) ** power / 2)
    if easing == "expo-in-out":
        inner = np.where(lower, 2.0 ** (20 * t - 10) / 2, (2 - 2.0 ** (10 - 20 * t)) / 2)
        return np.where(t <= 0, 0.0, np.where(t >= 1, 1.0, inner))
    if easing == "back-out":
        c1 = 1.70158
        return 1 + (c1 + 1) * (t - 1) ** 3 + c1 * (t - 1) ** 2
    raise ValueError(f"unknown easing {easing!r}; choose one of {', '.join(EASINGS)}")


def path(start: np.ndarray, end: np.ndarray, delay: np.ndarray, elapsed: float, move_time: float,
         easing: str = DEFAULT_EASING) -> np.ndarray:
    """Placements `elapsed` seconds into a flight (main() in quads.vert): each image leaves `start` after its
    `delay` and reaches `end` `move_time` seconds later along a straight line, eased; float32 like `start`."""
    eased = ease((elapsed - np.asarray(delay, np.float64)) / move_time, easing)[:, None]
    start = np.asarray(start, np.float64)
    return (start + (np.asarray(end, np.float64) - start) * eased).astype(np.float32)


def stagger_delays(start: np.ndarray, end: np.ndarray, spread: float) -> np.ndarray:
    """Start delays in [0, spread] seconds that make the images move as a flock.

    Half by distance (the longest flights leave first, so everybody lands at about the same time),
    half by a diagonal sweep over the start positions (a wave crosses the picture). Only x and y count.
    Stretched to span [0, spread]: the first image leaves at once (a key press shows at the next frame).
    """
    if len(start) == 0 or spread <= 0:
        return np.zeros(len(start), np.float32)
    distance = np.hypot(*(end - start)[:, :2].T)
    far = distance / distance.max() if distance.max() > 0 else np.zeros_like(distance)
    sweep = start[:, 0] + start[:, 1]
    span = np.ptp(sweep)
    sweep = (sweep - sweep.min()) / span if span > 0 else np.zeros_like(sweep)
    order = 0.5 * (1 - far) + 0.5 * sweep
    span = np.ptp(order)
    order = (order - order.min()) / span if span > 0 else np.zeros_like(order)
    return (spread * order).astype(np.float32)


class Animator:
    """The current flight of N images: start and end placements, per-image delays, timing and easing.

    Times are seconds supplied by the caller (`now`); nothing here reads a clock.
    """

    def __init__(self, positions: np.ndarray, stagger: float = STAGGER) -> None:
        """`stagger`: the share of a flight's duration spread over the images' start delays."""
        self.stagger = stagger
        self.start = np.asarray(positions, np.float32).copy()
        self.end = self.start.copy()
        self.delay = np.zeros(len(self.start), np.float32)
        self.t0, self.duration, self.move_time = 0.0, 0.0, 1.0
        self.easing = DEFAULT_EASING
        self.version = 0   # bumped on every change, so the GPU copy knows when to re-upload

    def positions(self, now: float) -> np.ndarray:
        """Every image's placement at time `now`, float32 (N, 3) (or (N, 2), as given)."""
        return path(self.start, self.end, self.delay, self.elapsed(now), self.move_time, self.easing)

    def placement(self, index: int, now: float) -> np.ndarray:
        """One image's placement at time `now` (what positions(now)[index] is, without the other N − 1)."""
        eased = float(ease((now - self.t0 - self.delay[index]) / self.move_time, self.easing))
        start = self.start[index].astype(np.float64)
        return (start + (self.end[index] - start) * eased).astype(np.float32)

    def retarget(self, end: np.ndarray, now: float, duration: float = DEFAULT_DURATION,
                 easing: str = DEFAULT_EASING, start: np.ndarray | None = None) -> None:
        """Fly from where the images are at `now` (or from `start`) to `end` over `duration` seconds."""
        if easing not in EASINGS:
            raise ValueError(f"unknown easing {easing!r}; choose one of {', '.join(EASINGS)}")
        self.start = self.positions(now) if start is None else np.asarray(start, np.float32).copy()
        self.end = np.asarray(end, np.float32).copy()
        self.delay = stagger_delays(self.start, self.end, duration * self.stagger)
        self.t0, self.duration = float(now), float(duration)
        self.move_time = max(duration * (1 - self.stagger), 1e-6)
        self.easing = easing
        self.version += 1

    def jump(self, positions: np.ndarray) -> None:
        """Put the images at `positions` at once, without a flight."""
        self.start = np.asarray(positions, np.float32).copy()
        self.end = self.start.copy()
        self.delay = np.zeros(len(self.start), np.float32)
        self.duration = 0.0
        self.version += 1

    def is_animating(self, now: float) -> bool:
        """True while some image has not arrived yet."""
        return now - self.t0 < self.duration

    def elapsed(self, now: float) -> float:
        """Seconds since the flight started (for the shader; computed here in double precision)."""
        return now - self.t0
