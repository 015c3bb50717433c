"""Soak test: run the installation's attract loop for a long time and watch frames and memory.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python bench/soak.py LAYOUT.json --minutes 30

Runs the real installation code (playlist loop, OSC server, layout watcher, log file) in a window of
--size, on a copy of the layout in a temporary folder. Every --reload-every seconds the copy is
rewritten (blur and combined swapped), so hot reload and its texture uploads are soaked too, and
every --osc-every seconds an OSC /gallery/next is sent to the sketch over UDP. Prints a table of
frames drawn and resident memory (Python + JVM, one process) once per --sample-every seconds and a
summary: memory at start (after a warm-up) and end, and the growth over the second half of the run.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python bench/soak.py LAYOUT.json --reloads 20

With --reloads N the run is a reload test instead: the layout is rewritten as soon as the previous
reload has taken over and its atlas is in (and --reload-gap seconds have passed), N times; resident memory
is read after the first load and after every reload, and the summary gives memory after the last reload
as a multiple of memory after the first load (issue 9: at most 1.3).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

from layoutfile import UserError, layout_names, write_text_atomic
from sketches.lib.install_config import InstallConfig
from sketches.lib.installation import Installation, gl_facts, setup_logging
from sketches.lib.layout import load_layout
from sketches.lib.preflight import require_display_and_java


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("layout_file", type=Path, metavar="LAYOUT.json")
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to run (default 30)")
    parser.add_argument("--size", default="1280x720", help="window size WxH (default 1280x720)")
    parser.add_argument("--playlist", type=Path, help="playlist (default: every layout of the file in turn)")
    parser.add_argument("--reload-every", type=float, default=300.0, metavar="S",
                        help="rewrite the layout file every S seconds to soak hot reload (0: never; default 300)")
    parser.add_argument("--osc-every", type=float, default=60.0, metavar="S",
                        help="send /gallery/next every S seconds (0: never; default 60)")
    parser.add_argument("--sample-every", type=float, default=60.0, metavar="S",
                        help="seconds between table rows (default 60)")
    parser.add_argument("--warm-up", type=float, default=30.0, metavar="S",
                        help="seconds before the 'start' memory reading (default 30)")
    parser.add_argument("--reloads", type=int, default=0, metavar="N",
                        help="reload test: N hot reloads back to back, memory after each (default 0: off)")
    parser.add_argument("--reload-gap", type=float, default=3.0, metavar="S",
                        help="with --reloads: seconds a loaded layout is shown before the next reload (default 3)")
    parser.add_argument("--log", type=Path, help="log file (default: in the temporary folder, printed at the end)")
    args = parser.parse_args(argv)
    args.width, args.height = (int(v) for v in args.size.lower().split("x"))
    return args


def swapped_layouts(doc: dict) -> dict:
    """The same document with its layouts' entries rotated by one (blur ⇄ combined in the default build):
    every image gets a new place."""
    names = layout_names(doc)
    return dict(doc, layouts={name: doc["layouts"][names[k - 1]] for k, name in enumerate(names)})


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        doc = load_layout(args.layout_file)
        require_display_and_java()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    layout_copy = work / "layout.json"
    for level in doc["atlas"]["levels"]:
        for file in level["files"]:
            (work / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(args.layout_file.resolve().parent / file, work / file)
    write_text_atomic(layout_copy, json.dumps(doc))
    log_file = args.log or work / "soak.log"
    setup_logging(log_file)
    config = InstallConfig(playlist=args.playlist, osc_port=0, log_file=log_file, fps_log_interval=60.0)
    installation = Installation(config, layout_copy, tuple(layout_names(doc)))

    import jpype
    import py5
    from pythonosc.udp_client import SimpleUDPClient

    from sketches.lib.scene import BACKGROUND, Scene

    class Soak(py5.Sketch):
        def settings(self):
            self.size(args.width, args.height, self.P2D)
            self.no_smooth()   # as the gallery draws

        def setup(self):
            first = installation.player.playlist.steps[0]
            self.scene = Scene(self, doc, layout_copy, first.layout, first.state)
            installation.start(self, self.scene, doc, self.now())
            self.osc = SimpleUDPClient(*installation.remote.address)
            self.process = psutil.Process()
            self.samples: list[tuple[float, int, float, float]] = []
            self.runtime = jpype.JClass("java.lang.Runtime").getRuntime()
            self.next_sample, self.reloads, self.osc_sent = 0.0, 0, 0
            self.docs = [doc, swapped_layouts(doc)]
            self.loaded_at: float | None = None      # --reloads: when the current layout was fully in
            self.replaced: dict | None = None        # --reloads: the document the last rewrite replaces
            self.after_reload: list[tuple[int, float, float]] = []   # (reloads so far, resident MiB, JVM heap MiB)

        def now(self) -> float:
            return self.millis() / 1000

        def draw(self):
            now = self.now()
            installation.update(now)
            self.background(BACKGROUND)
            self.scene.draw(now)
            if now >= self.next_sample:
                self.sample(now)
                self.next_sample += args.sample_every
            if args.reloads:
                self.reload_test(now)
            elif args.reload_every and now >= (self.reloads + 1) * args.reload_every:
                self.reloads += 1
                write_text_atomic(layout_copy, json.dumps(self.docs[self.reloads % 2]))
            if args.osc_every and now >= (self.osc_sent + 1) * args.osc_every:
                self.osc_sent += 1
                self.osc.send_message("/gallery/next", [])
            if now >= args.minutes * 60:
                if self.samples[-1][1] != self.frame_count:
                    self.sample(now)
                self.exit_sketch()

        def reload_test(self, now: float) -> None:
            """Rewrite the layout once the last rewrite has taken over, its atlas is in, the sharper level
            too where the view needs it (nothing is being read), and it has been shown --reload-gap seconds;
            read memory just before each rewrite (and after the last reload)."""
            scene = self.scene
            if scene.doc is self.replaced or scene.reloading or scene.is_animating(now) or not scene.is_sharp():
                self.loaded_at = None
                return
            if self.loaded_at is None:
                self.loaded_at = now
            if now - self.loaded_at < args.reload_gap:
                return
            _, _, rss, java_heap = self.reading(now)
            self.after_reload.append((self.reloads, rss, java_heap))
            if self.reloads == args.reloads:
                self.sample(now)
                self.exit_sketch()
                return
            self.reloads += 1
            self.replaced, self.loaded_at = scene.doc, None
            write_text_atomic(layout_copy, json.dumps(self.docs[self.reloads % 2]))

        def reading(self, now: float) -> tuple[float, int, float, float]:
            """(seconds, frames drawn, resident MiB, JVM heap in use MiB)"""
            java_heap = (self.runtime.totalMemory() - self.runtime.freeMemory()) / 2**20
            return now, self.frame_count, self.process.memory_info().rss / 2**20, java_heap

        def sample(self, now: float) -> None:
            self.samples.append(self.reading(now))

    sketch = Soak()
    started = time.perf_counter()
    sketch.run_sketch(block=True)
    installation.close()
    report(sketch, args, gl_facts(), time.perf_counter() - started, log_file, len(doc["images"]))
    for entry in work.iterdir():   # keep only the log
        if entry != log_file:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    if not any(work.iterdir()):
        work.rmdir()
    return 0


def report(sketch, args: argparse.Namespace, gl: str, wall: float, log_file: Path, n_images: int) -> None:
    samples = sketch.samples
    print(f"soak: {n_images} images, {args.width}x{args.height}, {args.minutes:g} min, GL {gl}")
    print(f"{'minute':>8} {'frames':>9} {'fps':>6} {'RSS MiB':>8} {'JVM heap MiB':>13}")
    previous = (0.0, 0)
    for now, frames, rss, java_heap in samples:
        fps = (frames - previous[1]) / max(now - previous[0], 1e-9)
        print(f"{now / 60:8.1f} {frames:9d} {fps:6.1f} {rss:8.0f} {java_heap:13.0f}")
        previous = (now, frames)
    end_t, end_frames, end_rss, _ = samples[-1]
    start = next((s for s in samples if s[0] >= args.warm_up), samples[0])
    half = next((s for s in samples if s[0] >= end_t / 2), samples[-1])
    print(f"frames drawn: {end_frames} in {end_t:.0f} s ({end_frames / end_t:.1f} fps); wall {wall:.0f} s; "
          f"layout reloads: {sketch.reloads}")
    print(f"resident memory: {start[2]:.0f} MiB at {start[0]:.0f} s (start, after warm-up), {end_rss:.0f} MiB at end, "
          f"max {max(s[2] for s in samples):.0f} MiB; second half {end_rss - half[2]:+.0f} MiB")
    if args.reloads:
        first = sketch.after_reload[0][1]
        print(f"{'reloads':>8} {'RSS MiB':>8} {'x first':>8} {'JVM heap MiB':>13}")
        for reloads, rss, java_heap in sketch.after_reload:
            print(f"{reloads:8d} {rss:8.0f} {rss / first:8.2f} {java_heap:13.0f}")
        reloads, last, _ = sketch.after_reload[-1]
        print(f"resident memory after {reloads} reloads: {last:.0f} MiB = {last / first:.2f} x after the first load "
              f"({first:.0f} MiB)")
    print(f"log: {log_file}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
