"""Playlists: scripted sequences of moves (layout + t-SNE/grid state) with fly and hold times.

One format drives the installation's attract loop and `record.py`. A playlist file is JSON:

    {"format": "tsne-gallery/playlist", "version": 1, "loop": true,
     "fly": 4.0, "hold": 6.0, "easing": "cubic-in-out",
     "steps": [{"layout": "blur", "state": "tsne"},
               {"layout": "blur", "state": "grid", "hold": 10},
               {"layout": "combined", "state": "grid", "fly": 6, "easing": "linear"}]}

Each step flies `fly` seconds to its target and then holds it `hold` seconds; top-level `fly`,
`hold` and `easing` are the defaults of the steps. The first step is shown at once (no fly) when
the playlist starts; with `loop` the last step is followed by a fly back to the first. Steps name layouts
of the layout file they play (any of its names) and are checked against it.

Without a playlist file, `default_playlist` makes one from the file: every layout in order, each shown
in its t-SNE state and its grid (t-SNE → grid, next layout's grid → its t-SNE, …, so one thing changes at
a time), then back to the first; for the default build that is blur t-SNE → blur grid → combined grid →
combined t-SNE, 36 s a pass.

`PlaylistPlayer` turns clock readings (`now`, seconds, supplied by the caller) into `Move`s; it
never reads a clock itself, so the same code runs live and frame-exactly in a recording.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from layoutfile import STATES, UserError, read_json_file
from sketches.lib.motion import DEFAULT_EASING, EASINGS

FORMAT = "tsne-gallery/playlist"
VERSION = 1
DEFAULT_FLY, DEFAULT_HOLD = 4.0, 5.0   # seconds, of the generated default playlist


class PlaylistError(UserError):
    """A playlist file is missing, not JSON, or breaks the playlist format."""


@dataclass(frozen=True)
class Step:
    """Fly `fly` seconds to (`layout`, `state`) with `easing`, then hold it `hold` seconds."""

    layout: str
    state: str
    fly: float
    hold: float
    easing: str


@dataclass(frozen=True)
class Playlist:
    steps: tuple[Step, ...]
    loop: bool = True

    def single_pass_duration(self) -> float:
        """Seconds from the start (first step shown at once) to the end of the last step's hold."""
        return self.steps[0].hold + sum(step.fly + step.hold for step in self.steps[1:])


@dataclass(frozen=True)
class Move:
    """Go to (`layout`, `state`): a jump (no animation) or a fly that starts at `start` seconds."""

    layout: str
    state: str
    start: float
    duration: float
    easing: str
    jump: bool = False


class SceneLike(Protocol):
    def go_to(self, layout: str, state: str, now: float, duration: float | None = None,
              easing: str = "cubic-in-out") -> None: ...

    def jump_to(self, layout: str, state: str) -> None: ...


def default_playlist(layouts: Sequence[str], first_hold: float = DEFAULT_HOLD,
                     first_easing: str = DEFAULT_EASING) -> Playlist:
    """Every layout of a file in order, t-SNE and grid each, looping (see the module's docstring).

    `first_hold` is how long the first picture holds before the first fly, `first_easing` that fly's easing
    (record.py: 0 and back-out, so a recording moves from its first frames: back-out starts at full speed).
    """
    steps = []
    for k, layout in enumerate(layouts):
        for state in (STATES if k % 2 == 0 else STATES[::-1]):
            steps.append(Step(layout, state, DEFAULT_FLY, DEFAULT_HOLD, DEFAULT_EASING))
    steps[0] = Step(steps[0].layout, steps[0].state, DEFAULT_FLY, first_hold, DEFAULT_EASING)
    steps[1] = Step(steps[1].layout, steps[1].state, DEFAULT_FLY, DEFAULT_HOLD, first_easing)
    return Playlist(tuple(steps), loop=True)


def parse_playlist(data: Any, layouts: Sequence[str], source: str = "playlist",
                   layout_file: str = "the layout file") -> Playlist:
    """Validate a decoded playlist document for a layout file with `layouts` (its names); raise PlaylistError
    naming `source` and the problem."""

    def fail(reason: str) -> None:
        raise PlaylistError(f"{source}: {reason}")

    if not isinstance(data, dict):
        fail("not a playlist (top level is not a JSON object)")
    if data.get("format", FORMAT) != FORMAT:
        fail(f"not a tsne-gallery playlist (format is {data.get('format')!r}, expected {FORMAT!r})")
    version = data.get("version", VERSION)
    if not isinstance(version, int) or version > VERSION:
        fail(f"playlist version {version!r} is not one this program reads ({VERSION})")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        fail("'steps' must be a non-empty list")
    loop = data.get("loop", True)
    if not isinstance(loop, bool):
        fail("'loop' must be true or false")

    def seconds(where: dict, key: str, default: float, label: str) -> float:
        value = where.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            fail(f"{label}: '{key}' must be a number of seconds >= 0, not {value!r}")
        return float(value)

    def easing_name(where: dict, default: str, label: str) -> str:
        value = where.get("easing", default)
        if value not in EASINGS:
            fail(f"{label}: unknown easing {value!r} (one of {', '.join(EASINGS)})")
        return value

    default_fly = seconds(data, "fly", 4.0, "playlist")
    default_hold = seconds(data, "hold", 6.0, "playlist")
    default_easing = easing_name(data, "cubic-in-out", "playlist")
    parsed = []
    for i, step in enumerate(steps):
        label = f"steps[{i}]"
        if not isinstance(step, dict):
            fail(f"{label} is not an object")
        if step.get("layout") not in layouts:
            fail(f"{label}: layout {step.get('layout')!r} is not one of {layout_file}'s ({', '.join(layouts)})")
        if step.get("state") not in STATES:
            fail(f"{label}: 'state' must be one of {', '.join(STATES)}, not {step.get('state')!r}")
        fly = seconds(step, "fly", default_fly, label)
        hold = seconds(step, "hold", default_hold, label)
        if fly + hold <= 0:
            fail(f"{label}: fly + hold must be more than 0 seconds")
        parsed.append(Step(step["layout"], step["state"], fly, hold, easing_name(step, default_easing, label)))
    return Playlist(tuple(parsed), loop)


def load_playlist(path: str | os.PathLike, layouts: Sequence[str], layout_file: str = "the layout file") -> Playlist:
    """Read and validate a playlist file for a layout file with `layouts` (its names, e.g. layout_names(doc))."""
    return parse_playlist(read_json_file(Path(path), "playlist", PlaylistError), layouts, str(path), layout_file)


class PlaylistPlayer:
    """Walks through a playlist as time passes; pauses for an operator, waits out visitors.

    - `pause()` / `play(now)`: an operator stops and restarts the loop (play goes on with the next step).
    - `interrupt(now)`: a visitor (or a remote command) took over; the loop resumes with the next step
      once `idle_seconds` pass without another interrupt.
    Every method that may move the scene returns the `Move`s to apply, in order.
    """

    def __init__(self, playlist: Playlist, idle_seconds: float = 30.0):
        self.playlist = playlist
        self.idle_seconds = idle_seconds
        self.index = 0
        self.paused = False
        self.finished = False
        self._step_end = 0.0
        self._resume_at: float | None = None

    @property
    def step(self) -> Step:
        return self.playlist.steps[self.index]

    @property
    def waiting_for_idle(self) -> bool:
        return self._resume_at is not None

    def start(self, now: float) -> list[Move]:
        """Show the first step at once and hold it."""
        self.index, self.finished, self._resume_at = 0, False, None
        self._step_end = now + self.step.hold
        return [Move(self.step.layout, self.step.state, now, 0.0, self.step.easing, jump=True)]

    def update(self, now: float) -> list[Move]:
        """Moves due by `now`; flies start at their scheduled time, so no frame-rate jitter accumulates."""
        if self.paused or self.finished:
            return []
        if self._resume_at is not None:
            if now < self._resume_at:
                return []
            self._resume_at = None
            return [self._advance(now)]
        moves = []
        while now >= self._step_end:
            if self.index == len(self.playlist.steps) - 1 and not self.playlist.loop:
                self.finished = True
                break
            moves.append(self._advance(self._step_end))
        return moves

    def next(self, now: float) -> list[Move]:
        """Skip to the next step now (also ends a wait for idle, and restarts a finished playlist)."""
        self._resume_at, self.finished = None, False
        return [self._advance(now)]

    def pause(self) -> None:
        self.paused = True

    def play(self, now: float) -> list[Move]:
        """Undo `pause()`: the loop goes on with the next step now."""
        if not self.paused:
            return []
        self.paused = False
        return self.next(now)

    def interrupt(self, now: float) -> None:
        """Someone else moved the scene: hold the loop until `idle_seconds` after the last interrupt."""
        self._resume_at = now + self.idle_seconds

    def switch(self, playlist: Playlist) -> None:
        """Go on with another playlist (a reloaded layout file's) from the same step number, wrapped round."""
        self.playlist = playlist
        self.index %= len(playlist.steps)

    def _advance(self, start: float) -> Move:
        self.index = (self.index + 1) % len(self.playlist.steps)
        step = self.step
        self._step_end = start + step.fly + step.hold
        return Move(step.layout, step.state, start, step.fly, step.easing)


def apply_moves(scene: SceneLike, moves: list[Move]) -> None:
    """Hand moves to a Scene (sketches/lib/scene.py): jumps as `jump_to`, flies as `go_to`."""
    for move in moves:
        if move.jump:
            scene.jump_to(move.layout, move.state)
        else:
            scene.go_to(move.layout, move.state, move.start, move.duration, move.easing)
