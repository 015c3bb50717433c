"""Benchmark (not a test): sketch frame time and start-up for 1k / 10k / 100k images on synthetic atlases.

Compares the gallery's renderer (vertex buffers + vertex shader, images in flight all the time) with a
static textured PShape per atlas sheet (the cheapest thing Processing can draw, images never move).
Run under a display, e.g.:

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python bench/bench_sketch.py [--sizes 1000 10000 100000]

Prints one table row per size: start-up (JSON read → every sheet loaded and drawn), Scene(), one toggle
(numpy + buffer upload), the draw call, ms/frame of both paths (wall time between frames, median,
best of REPEATS runs) and their ratio. bench/bench_flights.py times the real gallery flying a real layout.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from embed import __version__
from layoutfile import build_layout, read_layout, write_layout
from sketches.lib.preflight import require_display_and_java

CELL_PX, PER_SIDE = 32, 64          # like embed's smallest level: 2048 px sheets of 4096 cells
WINDOW = (1280, 720)
WARMUP, FRAMES = 5, 30
REPEATS = 2                          # runs of each path, alternating; the faster one counts (shared machines)


def synthetic_layout(folder: Path, n: int, seed: int = 0) -> Path:
    """A layout of n images with random-colour atlas cells, random t-SNE points and a shuffled grid."""
    rng = np.random.default_rng(seed)
    per_sheet = PER_SIDE ** 2
    n_sheets = -(-n // per_sheet)
    files = []
    for s in range(n_sheets):
        colours = rng.integers(0, 256, (PER_SIDE, PER_SIDE, 3), dtype=np.uint8)
        sheet = np.repeat(np.repeat(colours, CELL_PX, axis=0), CELL_PX, axis=1)
        rel = f"atlas/{CELL_PX}/{s:03d}.jpg"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sheet).save(folder / rel, quality=90)
        files.append(rel)
    cols = int(np.ceil(np.sqrt(n * 16 / 9)))
    rows = -(-n // cols)
    layouts = {}
    for name in ("blur", "combined"):
        cells = rng.permutation(cols * rows)[:n]
        layouts[name] = {"label": name, "tsne": rng.uniform(0, 1, (n, 2)),
                         "grid": np.stack([cells % cols, cells // cols], axis=1)}
    images = [{"id": str(i), "path": f"{i}.jpg", "width": 64, "height": 64,
               "atlas_sheet": i // per_sheet, "atlas_cell": i % per_sheet} for i in range(n)]
    doc = build_layout(generator_version=__version__, params={"source": str(folder)}, images=images, cols=cols,
                       rows=rows, layouts=layouts,
                       atlas_levels=[{"cell_px": CELL_PX, "sheet_px": CELL_PX * PER_SIDE, "files": files}],
                       skipped=[])
    path = folder / "layout.json"
    write_layout(path, doc)
    return path


def make_sketches():
    """The two benchmark sketches (py5 imported only after the display check)."""
    import py5

    from sketches.lib.scene import Scene

    class Timed(py5.Sketch):
        """Draws FRAMES frames after WARMUP; records wall time between frames and the set-up time."""

        def __init__(self, doc, path):
            super().__init__()
            self.doc, self.path, self.stamps, self.call_ms = doc, path, [], []

        def settings(self):
            self.size(*WINDOW, self.P2D)
            self.no_smooth()   # as the gallery draws

        def setup(self):
            self.frame_rate(1000)
            started = time.perf_counter()
            self.build()
            self.setup_s = time.perf_counter() - started

        def draw(self):
            self.background(24)
            started = time.perf_counter()
            self.render(self.frame_count)
            if not self.ready():
                return
            self.call_ms.append(1000 * (time.perf_counter() - started))
            self.stamps.append(time.perf_counter())
            if len(self.stamps) >= WARMUP + FRAMES:
                self.exit_sketch()

        def ready(self) -> bool:
            """True once everything is loaded (frames before that are not timed)."""
            return True

        def ms_per_frame(self) -> float:
            return 1000 * float(np.median(np.diff(self.stamps[WARMUP:])))

        def render_call_ms(self) -> float:
            """CPU time of the drawing call itself (Python + Java, not the GL work done at the swap)."""
            return float(np.median(self.call_ms[WARMUP:]))

    class Empty(Timed):
        """background() only: the floor every frame pays (window size, swap)."""

        def build(self):
            pass

        def render(self, frame):
            pass

    class ShaderPath(Timed):
        """The gallery's Scene: every frame mid-flight (a new flight starts every second)."""

        def build(self):
            self.scene = Scene(self, self.doc, self.path, "blur", "tsne")
            self.retargets = 0

        def ready(self) -> bool:
            return self.scene.atlas.loaded

        def render(self, frame):
            now = frame / 30
            if frame % 30 == 1:   # a toggle: the O(N) numpy + upload step
                started = time.perf_counter()
                self.scene.go_to("blur", "grid" if self.scene.state == "tsne" else "tsne", now, duration=1.0)
                self.retarget_ms = 1000 * (time.perf_counter() - started)
            self.scene.draw(now)

    class StaticShape(Timed):
        """One textured PShape per atlas sheet (Py5Shape.vertices), never moving; one sheet built per
        frame at the start (a single setup() that takes over 5 s is killed by JOGL at 100k)."""

        def build(self):
            from sketches.lib.atlas import Atlas
            from sketches.lib.layout import world_positions
            from sketches.lib.view import View
            atlas = Atlas(self, self.doc, self.path)
            atlas.dispose()
            self.paths, self.sheet, self.uv = atlas.levels[0]["paths"], atlas.sheet, atlas.uv(0)
            view = View(self.width, self.height, self.doc["grid"]["cols"], self.doc["grid"]["rows"])
            centres = world_positions(self.doc)["blur", "grid"][:, :2]
            corners = np.array([[-0.47, -0.47], [0.47, -0.47], [0.47, 0.47], [-0.47, 0.47]])
            self.corners_xy = (centres[:, None, :] + corners) * view.scale + [view.offset_x, view.offset_y]
            self.right, self.down = corners[:, 0] > 0, corners[:, 1] > 0
            self.texture_mode(self.NORMAL)
            self.shapes = []   # not a GROUP: a group drawn before its last child is added ignores that child
            self.built, self.build_s = 0, 0.0

        def ready(self) -> bool:
            return self.built == len(self.paths)

        def render(self, frame):
            if not self.ready():
                started = time.perf_counter()
                mine = np.flatnonzero(self.sheet == self.built)
                u = np.where(self.right, self.uv[mine, None, 2], self.uv[mine, None, 0])
                v = np.where(self.down, self.uv[mine, None, 3], self.uv[mine, None, 1])
                shape = self.create_shape()
                shape.begin_shape(self.QUADS)
                shape.no_stroke()
                shape.texture(self.load_image(str(self.paths[self.built])))
                shape.vertices(np.concatenate([self.corners_xy[mine], u[..., None], v[..., None]], axis=2)
                               .reshape(-1, 4))
                shape.end_shape()
                self.shapes.append(shape)
                self.built += 1
                self.build_s += time.perf_counter() - started
            for shape in self.shapes:
                self.shape(shape)

    return Empty, ShaderPath, StaticShape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    args = parser.parse_args()
    require_display_and_java()
    Empty, ShaderPath, StaticShape = make_sketches()
    import jpype
    print(f"window {WINDOW[0]}x{WINDOW[1]}, atlas cells {CELL_PX} px in {CELL_PX * PER_SIDE} px sheets, "
          f"median of {FRAMES} frames")
    columns = ("images", "sheets", "start-up s", "Scene() s", "toggle ms", "draw() ms", "shader ms/frame",
               "static build s", "static ms/frame", "ratio")
    print(" | ".join(columns))
    with tempfile.TemporaryDirectory() as tmp:
        empty = Empty(None, None)
        empty.run_sketch(block=True)
        print(f"(empty frame: {empty.ms_per_frame():.1f} ms)", flush=True)
        for n in args.sizes:
            path = synthetic_layout(Path(tmp) / str(n), n)
            runs = {}
            for kind in (ShaderPath, StaticShape) * REPEATS:
                started = time.perf_counter()
                sketch = kind(read_layout(path), path)
                sketch.run_sketch(block=True)
                if sketch.is_dead_from_error or len(sketch.stamps) < WARMUP + FRAMES:
                    sketch.exit_sketch()
                    print(f"bench: {kind.__name__} failed at {n} images", file=sys.stderr, flush=True)
                    os._exit(1)   # a JOGL animator that died keeps the JVM (and sys.exit) waiting
                result = {"startup": sketch.stamps[0] - started,   # read JSON → all sheets loaded and drawn
                          "setup": sketch.setup_s + getattr(sketch, "build_s", 0.0), "frame": sketch.ms_per_frame(), "call": sketch.render_call_ms(),
                          "toggle": getattr(sketch, "retarget_ms", 0.0),
                          "sheets": len(sketch.doc["atlas"]["levels"][0]["files"])}
                if kind not in runs or result["frame"] < runs[kind]["frame"]:
                    runs[kind] = result
                del sketch   # let Java free this run's textures before the next one (100k: ~0.4 GB each)
                gc.collect()
                jpype.JClass("java.lang.System").gc()
            shader, static = runs[ShaderPath], runs[StaticShape]
            row = (n, shader["sheets"], f"{shader['startup']:.2f}", f"{shader['setup']:.2f}",
                   f"{shader['toggle']:.1f}", f"{shader['call']:.2f}", f"{shader['frame']:.1f}",
                   f"{static['setup']:.2f}", f"{static['frame']:.1f}", f"{shader['frame'] / static['frame']:.2f}")
            print(" | ".join(str(v) for v in row), flush=True)


if __name__ == "__main__":
    main()
