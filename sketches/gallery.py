"""Gallery: images arranged by look, flying between their t-SNE positions and their grid cells.

    python sketches/gallery.py LAYOUT.json                  window (press h for the keys)
    python sketches/gallery.py LAYOUT.json --fullscreen
    python sketches/gallery.py LAYOUT.json --snapshot out.png --layout blur --state grid --size 960x540

Needs an X display (or `xvfb-run -a -s "-screen 0 1920x1080x24" ...`) and Java 17+.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run as a script from anywhere

from layoutfile import LAYOUTS, STATES, UserError, atomic_path, toggle  # noqa: E402
from sketches.lib.installation import InstallationMixin, prepare_installation  # noqa: E402
from sketches.lib.layout import image_file, load_layout  # noqa: E402
from sketches.lib.options import window_size  # noqa: E402
from sketches.lib.preflight import require_display_and_java  # noqa: E402

KEYS = (("t", "t-SNE ⇄ grid"), ("b", "blur ⇄ combined"), ("wheel  + / -", "zoom"),
        ("drag  arrows", "pan"), ("r", "reset view"), ("s", "screenshot (PNG)"), ("h", "show / hide this help"),
        ("Esc", "quit"))
HOVER_PX = 192      # side of the enlarged image shown on hover
ZOOM_STEP = 1.25
PAN_STEP = 60
SNAPSHOT_MAX_FRAMES = 300   # a snapshot waits (at most this long) for the sharper atlas cells it needs


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gallery.py", description=__doc__.split("\n")[0])
    parser.add_argument("layout_file", type=Path, metavar="LAYOUT.json", help="layout file written by `python -m embed`")
    parser.add_argument("--layout", choices=LAYOUTS, default="blur", help="layout to start in (default blur)")
    parser.add_argument("--state", choices=STATES, default="tsne", help="state to start in (default tsne)")
    parser.add_argument("--size", type=window_size, default="1280x720",
                        help="window size WxH (default 1280x720)")
    parser.add_argument("--fullscreen", action="store_true", help="full screen instead of a window")
    parser.add_argument("--snapshot", type=Path, metavar="FILE.png", help="render one frame to FILE.png and exit")
    parser.add_argument("--install", nargs="?", const="", metavar="CONFIG.json",
                        help="installation mode: full screen, no cursor, attract loop, OSC remote control, hot "
                             "reload, log file; options from CONFIG.json (see sketches/lib/installation.py)")
    args = parser.parse_args(argv)
    args.width, args.height = args.size
    return args


def prepare(argv: list[str]) -> argparse.Namespace:
    """Parse options and check everything that can fail before Java starts; exit 2 with one line if not."""
    args = parse_args(argv)
    try:
        args.doc = load_layout(args.layout_file)
        args.installation = (None if args.install is None
                             else prepare_installation(args.install or None, args.layout_file))
        require_display_and_java()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    return args


if __name__ == "__main__":
    ARGS = prepare(sys.argv[1:])

import py5  # noqa: E402  (after prepare(): no display or no Java gives one line, not a Java trace)

from sketches.lib.scene import Scene  # noqa: E402


class Gallery(py5.Sketch):
    """The interactive gallery; with args.snapshot it draws one frame, saves it and exits."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__()
        self.args = args
        self.error: str | None = None
        self.show_help = False
        self.hover: int | None = None
        self.hover_image, self.hover_sharp = None, False
        self.drag_from = (0, 0)
        self.screenshot_due = False

    def now(self) -> float:
        """Animation time in seconds."""
        return self.millis() / 1000

    def settings(self):
        if self.args.fullscreen and not self.args.snapshot:
            self.full_screen(self.P2D)
        else:
            self.size(self.args.width, self.args.height, self.P2D)
        if not self.args.snapshot:
            self.pixel_density(self.display_density())   # sharp on HiDPI screens; screenshots at full resolution

    def setup(self):
        try:
            self.scene = Scene(self, self.args.doc, self.args.layout_file, self.args.layout, self.args.state)
        except UserError as exc:
            self.error = str(exc)
            self.exit_sketch()
            return
        self.window_title(f"tsne-gallery — {self.args.layout_file.name} (h: help)")

    def draw(self):
        if self.error:
            return
        self.background(24)
        try:
            self.scene.draw(self.now())
        except UserError as exc:   # an atlas sheet that cannot be decoded
            self.error = str(exc)
            self.exit_sketch()
            return
        if self.screenshot_due:   # the images only, without help or hover
            self.screenshot_due = False
            name = Path(time.strftime("gallery-%Y%m%d-%H%M%S.png"))
            self.save_snapshot(name)
            print(f"gallery: saved {name.resolve()}")
        if self.args.snapshot:
            if self.scene.is_sharp() or self.frame_count >= SNAPSHOT_MAX_FRAMES:
                self.save_snapshot(self.args.snapshot)
                self.exit_sketch()
            return
        self.draw_hover()
        if self.show_help:
            self.draw_help()

    def save_snapshot(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            self.save_frame(str(tmp))

    # --- interaction -------------------------------------------------------------------------
    def key_pressed(self):
        scene, now = self.scene, self.now()
        if self.key == "t":
            scene.go_to(scene.layout, toggle(scene.state, STATES), now)
        elif self.key == "b":
            scene.go_to(toggle(scene.layout, LAYOUTS), scene.state, now)
        elif self.key in "+=":
            scene.view.zoom_at(self.width / 2, self.height / 2, ZOOM_STEP)
        elif self.key == "-":
            scene.view.zoom_at(self.width / 2, self.height / 2, 1 / ZOOM_STEP)
        elif self.key == "r":
            scene.view.fit()
        elif self.key == "h":
            self.show_help = not self.show_help
        elif self.key == "s":
            self.screenshot_due = True
        elif self.key == self.CODED:
            step = {self.LEFT: (PAN_STEP, 0), self.RIGHT: (-PAN_STEP, 0),
                    self.UP: (0, PAN_STEP), self.DOWN: (0, -PAN_STEP)}.get(self.key_code)
            if step:
                scene.view.pan(*step)
        self.update_hover()

    def mouse_wheel(self, event):
        self.scene.view.zoom_at(self.mouse_x, self.mouse_y, ZOOM_STEP ** (-event.get_count()))
        self.update_hover()

    def mouse_pressed(self):
        self.drag_from = (self.mouse_x, self.mouse_y)

    def mouse_dragged(self):
        x, y = self.drag_from
        self.scene.view.pan(self.mouse_x - x, self.mouse_y - y)
        self.drag_from = (self.mouse_x, self.mouse_y)

    def mouse_moved(self):
        self.update_hover()

    def update_hover(self):
        index = self.scene.image_at(self.mouse_x, self.mouse_y, self.now())
        if index != self.hover:
            self.hover, self.hover_sharp = index, False

    @property
    def hover_file(self) -> Path | None:
        """The original file of the image under the mouse."""
        return None if self.hover is None else image_file(self.scene.doc, self.hover)

    # --- overlays ----------------------------------------------------------------------------
    def draw_hover(self):
        if self.hover is None:
            return
        if not self.hover_sharp:
            self.hover_image, self.hover_sharp = self.scene.thumbnail(self.hover)
        if self.hover_image is None:
            return
        x = min(self.mouse_x + 16, self.width - HOVER_PX - 8)
        y = min(self.mouse_y + 16, self.height - HOVER_PX - 30)
        self.no_stroke()
        self.fill(0, 200)
        self.rect(x - 4, y - 4, HOVER_PX + 8, HOVER_PX + 30)
        self.image(self.hover_image, x, y, HOVER_PX, HOVER_PX)
        self.fill(255)
        self.text_size(13)
        self.text_align(self.LEFT, self.TOP)
        self.text(self.scene.doc["images"][self.hover]["path"], x, y + HOVER_PX + 6)

    def draw_help(self):
        lines = [f"{key:>14}   {what}" for key, what in KEYS]
        lines.append(f"{'now':>14}   {self.scene.layout} / {self.scene.state}, {len(self.scene.doc['images'])} images")
        self.no_stroke()
        self.fill(0, 190)
        self.rect(20, 20, 420, 24 * len(lines) + 20)
        self.fill(255)
        self.text_size(15)
        self.text_align(self.LEFT, self.TOP)
        for i, line in enumerate(lines):
            self.text(line, 32, 30 + 24 * i)


class InstalledGallery(InstallationMixin, Gallery):
    """gallery.py --install: the gallery running unattended (sketches/lib/installation.py)."""


def main(args: argparse.Namespace) -> int:
    sketch = (InstalledGallery if args.installation else Gallery)(args)
    sketch.run_sketch(block=True)
    if sketch.is_dead_from_error:   # py5 printed the traceback; close the window so the process ends
        sketch.exit_sketch()
        return 1
    if sketch.error:
        print(f"error: {sketch.error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
