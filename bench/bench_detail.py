"""Benchmark (not a test): how long after the view settles the visible images are drawn sharp.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python bench/bench_detail.py LAYOUT.json

Runs the gallery sketch itself (sketches/gallery_sketch.py, its atlas loading and detail layer) on the real
clock in a WIDTHxHEIGHT window, grid state. Once everything is loaded at the default framing it makes a
series of view changes as a visitor would (one wheel step of `--zoom` at a point, then pans that bring a
column or row of images into view, then a zoom elsewhere) and after each one, with the view still, times
the seconds from the change to the first frame where `scene.is_sharp()` holds (every image on screen drawn
from the sharpest level it needs), and counts the images that needed it. The first row times the start
(from the smallest level being in to the fitted view sharp); the steps begin once the gallery has run
untouched for `--idle` seconds, as a visitor meets it. Steps are listed in order: a step over cells read
earlier is faster than one over new cells, and both kinds are in the series.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from layoutfile import UserError
from sketches.lib.layout import load_layout
from sketches.lib.preflight import require_display_and_java

TIMEOUT_S = 30.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("layout_file", type=Path, metavar="LAYOUT.json")
    parser.add_argument("--size", default="1280x720", help="window WxH (default 1280x720)")
    parser.add_argument("--zoom", type=float, default=2.5, help="zoom factor of each zoom step (default 2.5)")
    parser.add_argument("--idle", type=float, default=5.0,
                        help="seconds the gallery runs untouched before the first step (default 5)")
    return parser.parse_args(argv)


def steps(width: int, height: int, zoom: float) -> list[tuple[str, tuple]]:
    """(label, view change) in order: ('zoom', (x, y, factor)), ('pan', (dx, dy)) or ('fit', ())."""
    column, row = width // 4, height // 4
    return [("zoom in at the upper left", ("zoom", (width * 0.25, height * 0.3, zoom))),
            ("pan: a column comes in from the right", ("pan", (-column, 0))),
            ("pan: another column", ("pan", (-column, 0))),
            ("pan: a row comes in from below", ("pan", (0, -row))),
            ("pan back left (cells read before)", ("pan", (2 * column, row))),
            ("fit (whole picture, small level)", ("fit", ())),
            ("zoom in at the lower right", ("zoom", (width * 0.75, height * 0.7, zoom))),
            ("pan: a column comes in from the left", ("pan", (column, 0))),
            ("zoom in further (a sharper level or more pixels)", ("zoom", (width * 0.5, height * 0.5, 1.6)))]


def make_gallery(args: argparse.Namespace, doc: dict, plan: list):
    from sketches.gallery import parse_args as gallery_args
    from sketches.gallery_sketch import Gallery

    class TimedGallery(Gallery):
        def __init__(self) -> None:
            options = gallery_args([str(args.layout_file), "--size", args.size, "--state", "grid"])
            options.doc = doc
            super().__init__(options)
            self.started = time.perf_counter()
            self.ready_at: float | None = None      # the fitted view sharp: the steps begin
            self.loaded_at: float | None = None     # every base sheet uploaded
            self.step = -1
            self.changed_at = 0.0
            self.results: list[tuple[str, float, float, int, int]] = []   # label, s to read, s to sharp, images, frames
            self.frames = 0
            self.read_at: float | None = None

        def draw(self):
            super().draw()
            scene, stamp = self.scene, time.perf_counter()
            self.frames += 1
            if self.ready_at is None:   # start-up: the first steps wait until it has run untouched for a while
                if self.loaded_at is None and scene.atlas.loaded:
                    self.loaded_at, self.changed_at = stamp, stamp
                if self.loaded_at is not None:
                    self.check("start: the fitted view (from the base level in)", stamp)
                return
            self.check(plan[self.step][0], stamp)

        def check(self, label: str, stamp: float) -> None:
            """Note when the wanted cells are all read and when the view is sharp; then the next step."""
            scene, waited = self.scene, stamp - self.changed_at
            detail = scene.detail
            if self.read_at is None and detail.chosen_key == detail.last_key is not None and detail.level:
                loader = scene.atlas.loaders[detail.level - 1]
                if all(loader.get(i) is not None or int(i) in detail.written for i in detail.wanted):
                    self.read_at = stamp
            if not self.results or self.step >= 0:
                if scene.is_sharp() or waited > TIMEOUT_S:
                    read = float("nan") if self.read_at is None else self.read_at - self.changed_at
                    self.results.append((label, read, waited if scene.is_sharp() else float("inf"),
                                         len(detail.wanted), self.frames))
                    if self.step >= 0:
                        self.next_step(stamp)
            elif stamp - self.loaded_at >= args.idle and scene.is_sharp():
                self.ready_at = stamp
                self.next_step(stamp)

        def next_step(self, stamp: float) -> None:
            self.step += 1
            if self.step == len(plan):
                self.exit_sketch()
                return
            kind, values = plan[self.step][1]
            view = self.scene.view
            {"zoom": view.zoom_at, "pan": view.pan, "fit": view.fit}[kind](*values)
            self.changed_at, self.frames, self.read_at = time.perf_counter(), 0, None

    return TimedGallery


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    try:
        doc = load_layout(args.layout_file)
        require_display_and_java()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    plan = steps(width, height, args.zoom)
    load_before = os.getloadavg()[0]
    gallery = make_gallery(args, doc, plan)()
    gallery.run_sketch(block=True)
    if gallery.is_dead_from_error or gallery.error or gallery.ready_at is None:
        print(f"bench: the gallery failed ({gallery.error or 'see above'})", file=sys.stderr, flush=True)
        os._exit(1)
    levels = ", ".join(f"{lv['cell_px']} px ({len(lv['files'])} sheet(s) of {lv['sheet_px']} px)"
                       for lv in doc["atlas"]["levels"])
    print(f"{args.layout_file}: {len(doc['images'])} images, atlas {levels}, {args.size}, grid state; "
          f"load average {load_before:.1f} → {os.getloadavg()[0]:.1f}")
    print(f"start-up (run_sketch → every base sheet uploaded): {gallery.loaded_at - gallery.started:.1f} s")
    print("| step | change → cells read, s | change → sharp, s | images sharpened | frames |")
    print("|---|---|---|---|---|")
    for label, read, seconds, images, frames in gallery.results:
        print(f"| {label} | {read:.2f} | {seconds:.2f} | {images} | {frames} |")
    worst = max(seconds for _, _, seconds, _, _ in gallery.results)
    print(f"slowest step: {worst:.2f} s", flush=True)
    os._exit(0)   # skip JOGL's shutdown of the closed window (it can crash at exit)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
