"""Benchmark (not a test): how smoothly the gallery flies a real layout, frame by frame.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python bench/bench_flights.py assets/layouts/demo.json

Runs the gallery sketch itself (sketches/gallery_sketch.py: its settings, draw(), atlas loading and
detail level) in a WIDTHxHEIGHT window at the default framing, on the real clock: after start-up it
toggles t-SNE ⇄ grid and blur ⇄ combined in turn, `--flights` times, holding `--hold` seconds between
flights (so the sharper level loads and is dropped again each time). Every frame's wall time is recorded
from one draw() to the next. Prints the median fps during flights and during holds, the longest frame
and the number of frames over 100 ms after start-up, the process's CPU time per frame, and, for
comparison, a bare py5 sketch drawing the same number of plain rectangles (no textures). The machine's
load average is printed with the numbers: on shared cores the fps are lower bounds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from layoutfile import STATES, UserError, layout_names, toggle
from sketches.lib.layout import load_layout, step_layout, world_positions
from sketches.lib.preflight import require_display_and_java
from sketches.lib.scene import BACKGROUND
from sketches.lib.view import View

SLOW_MS = 100.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("layout_file", type=Path, metavar="LAYOUT.json")
    parser.add_argument("--size", default="1280x720", help="window WxH (default 1280x720)")
    parser.add_argument("--flights", type=int, default=8, help="flights to time (default 8)")
    parser.add_argument("--hold", type=float, default=2.5, help="seconds between flights (default 2.5)")
    args = parser.parse_args(argv)
    args.width, args.height = (int(v) for v in args.size.lower().split("x"))
    return args


def make_sketches(args: argparse.Namespace, doc: dict):
    """The timed gallery and the bare-rectangles sketch (py5 imported only after the display check)."""
    import py5

    from sketches.gallery import parse_args as gallery_args
    from sketches.gallery_sketch import Gallery

    class TimedGallery(Gallery):
        """The gallery, toggling on its own once everything is loaded; one record per frame."""

        def __init__(self) -> None:
            options = gallery_args([str(args.layout_file), "--size", args.size])
            options.doc = doc
            super().__init__(options)
            self.started = time.perf_counter()
            self.ready_at: float | None = None     # perf_counter when start-up ended
            self.next_move = 0.0
            self.moves = 0
            self.frames: list[tuple[float, float, bool]] = []   # (wall s, CPU s, in flight) at draw()

        def draw(self):
            stamp, cpu = time.perf_counter(), time.process_time()
            super().draw()
            scene, now = self.scene, self.now()
            if self.ready_at is None:
                if scene.atlas.loaded and scene.is_sharp():
                    self.ready_at, self.next_move = stamp, now + args.hold
                return
            self.frames.append((stamp, cpu, scene.is_animating(now)))
            if scene.is_animating(now) or now < self.next_move:
                return
            if self.moves == args.flights:
                self.exit_sketch()
                return
            self.moves += 1
            if self.moves % 2:
                scene.go_to(scene.layout, toggle(scene.state, STATES), now)
            else:
                scene.go_to(step_layout(scene.doc, scene.layout, 1), scene.state, now)
            self.next_move = now + scene.animator.duration + args.hold

    class Rectangles(py5.Sketch):
        """A bare py5 sketch: as many plain rectangles as the layout has images, at their grid cells."""

        def settings(self):
            self.size(args.width, args.height, self.P2D)

        def setup(self):
            view = View(self.width, self.height, doc["grid"]["cols"], doc["grid"]["rows"])
            placed = world_positions(doc)[layout_names(doc)[0], "grid"]
            self.rects = [(*view.to_screen(x - s / 2, y - s / 2), s * view.scale, s * view.scale) for x, y, s in placed]
            self.frames: list[tuple[float, float, bool]] = []

        def draw(self):
            self.frames.append((time.perf_counter(), time.process_time(), True))
            self.background(BACKGROUND)
            self.no_stroke()
            for i, (x, y, w, h) in enumerate(self.rects):
                self.fill((i * 37) % 255, (i * 91) % 255, (i * 53) % 255)
                self.rect(x, y, w, h)
            if len(self.frames) > 150:
                self.exit_sketch()

    return TimedGallery, Rectangles


def summary(frames: list[tuple[float, float, bool]]) -> dict:
    """Frame times (ms) between consecutive draw() calls, split by whether the later frame was in flight."""
    wall = np.diff([f[0] for f in frames]) * 1000
    cpu = np.diff([f[1] for f in frames]) * 1000
    flying = np.array([f[2] for f in frames[1:]], bool)
    holding = ~flying

    def fps(ms: np.ndarray) -> float:
        return 1000 / float(np.median(ms)) if len(ms) else float("nan")

    return {"frames": len(wall), "fps_flight": fps(wall[flying]), "fps_hold": fps(wall[holding]),
            "max_ms": float(wall.max()), "p99_ms": float(np.percentile(wall, 99)),
            "over_100": int((wall > SLOW_MS).sum()), "over_100_flight": int((wall[flying] > SLOW_MS).sum()),
            "max_flight_ms": float(wall[flying].max()) if flying.any() else float("nan"),
            "cpu_flight": float(np.median(cpu[flying])) if flying.any() else float("nan"),
            "cpu_hold": float(np.median(cpu[holding])) if holding.any() else float("nan")}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        doc = load_layout(args.layout_file)
        require_display_and_java()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    TimedGallery, Rectangles = make_sketches(args, doc)
    load_before = os.getloadavg()[0]
    gallery = TimedGallery()
    gallery.run_sketch(block=True)
    if gallery.is_dead_from_error or gallery.error or gallery.ready_at is None:
        print(f"bench: the gallery failed ({gallery.error or 'see above'})", file=sys.stderr, flush=True)
        os._exit(1)
    rects = Rectangles()
    rects.run_sketch(block=True)
    load_after = os.getloadavg()[0]
    g, r = summary(gallery.frames), summary(rects.frames[10:])
    print(f"{args.layout_file}: {len(doc['images'])} images, {args.width}x{args.height}, default framing, "
          f"{args.flights} flights, {args.hold:g} s holds; load average {load_before:.1f} → {load_after:.1f}")
    print(f"start-up (run_sketch → every sheet loaded and the sharp level in): {gallery.ready_at - gallery.started:.1f} s")
    print("| sketch | frames | median fps, flights | median fps, holds | longest frame ms (in flight) | 99th pct ms | "
          "frames > 100 ms (in flight) | CPU ms/frame flights / holds |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| gallery | {g['frames']} | {g['fps_flight']:.1f} | {g['fps_hold']:.1f} | {g['max_ms']:.0f} "
          f"({g['max_flight_ms']:.0f}) | {g['p99_ms']:.0f} | {g['over_100']} ({g['over_100_flight']}) | "
          f"{g['cpu_flight']:.0f} / {g['cpu_hold']:.0f} |")
    print(f"| {len(doc['images'])} plain rectangles (bare py5) | {r['frames']} | {r['fps_flight']:.1f} | – | "
          f"{r['max_ms']:.0f} | {r['p99_ms']:.0f} | {r['over_100']} | {r['cpu_flight']:.0f} |", flush=True)
    os._exit(0)   # skip JOGL's shutdown of the closed windows (it can crash at exit)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
