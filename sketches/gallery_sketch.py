"""The gallery sketch (py5, class mode): images flying between t-SNE and grid, keys, hover, help, snapshots.

Imported by `sketches/gallery.py` once its checks have passed: importing py5 starts Java.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import py5

from layoutfile import STATES, UserError, atomic_path, image_path, printable, toggle
from layoutfile.trust import trusted_source
from sketches.lib.gltexture import max_texture_size
from sketches.lib.installation import InstallationMixin
from sketches.lib.layout import step_layout
from sketches.lib.look import Look
from sketches.lib.options import check_frame_size
from sketches.lib.original import OriginalLoader
from sketches.lib.overlay import panel_position, wrap_text
from sketches.lib.recipe import layout_line
from sketches.lib.scene import Scene
from sketches.lib.title import FONT, TitleLine

KEYS = (("t", "t-SNE / grid"), ("left  right", "previous / next layout"), ("1 - 9", "layout 1 to 9"),
        ("b", "next layout"), ("wheel  + / -", "zoom"), ("drag  Shift+arrows", "pan"), ("r", "reset view"),
        ("s", "screenshot (PNG)"), ("h", "show / hide this help"),
        ("Esc", "quit"))   # only glyphs of Processing's bundled font (it has no ⇄)
HOVER_PX = 192      # side of the enlarged image shown on hover
TEXT_SIZE = 15      # help and hover text; a font is made at one size (others are blurred), so the title has its own
NAME_LINES = 4      # at most this many lines of file name under the enlarged image
ZOOM_STEP = 1.25
PAN_STEP = 60
SNAPSHOT_MAX_FRAMES = 300   # a snapshot waits (at most this long) for the sharper atlas cells it needs


def window_colour(look: Look) -> str:
    """py5 option painting the window in the background colour before the first frame (not grey)."""
    return "--window-color=#" + "".join(f"{v:02x}" for v in look.background_rgb)


class Gallery(py5.Sketch):
    """The interactive gallery; with args.snapshot it draws one frame, saves it and exits."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__()
        self.args = args
        self.look: Look = getattr(args, "look", None) or Look()
        self.show_hover, self.show_captions = True, True   # installation mode may turn them off
        self.error: str | None = None
        self.show_help = False
        self.hover: int | None = None
        self.hover_image, self.hover_sharp = None, False
        self.hover_cell_sharp = False                  # the panel shows the atlas's sharpest cell
        self.drag_from = (0, 0)
        self.screenshot_due = False
        self.snapshot_saved = False   # --snapshot: whether the file was written

    def now(self) -> float:
        """Animation time in seconds."""
        return self.millis() / 1000

    def settings(self):
        if self.args.fullscreen and not self.args.snapshot:
            self.full_screen(self.P2D)
        else:
            self.size(self.args.width, self.args.height, self.P2D)
        self.no_smooth()   # no multisampling: on software GL it doubled the cost of a frame (images are axis-aligned)
        if not self.args.snapshot:
            self.pixel_density(self.display_density())   # sharp on HiDPI screens; screenshots at full resolution

    def setup(self):
        try:
            check_frame_size(self.pixel_width, self.pixel_height, max_texture_size(), card=True, memory=False)
            layout, state = self.look.start(self.args.doc)
            self.scene = Scene(self, self.args.doc, self.args.layout_file, layout, state, self.look)
        except UserError as exc:
            self.error = str(exc)
            self.exit_sketch()
            return
        self.window_title(f"tsne-gallery — {self.args.layout_file.name} (h: help)")
        self.title = TitleLine(self, self.look)
        density = max(1, round(self.pixel_width / self.width))
        self.originals = OriginalLoader(HOVER_PX * density, self.args.doc["params"].get("fit", "crop"))

    def draw(self):
        if self.error:
            return
        self.background(*self.look.background_rgb)
        self.scene.draw(self.now())   # a damaged atlas sheet is logged and drawn from the other level (atlas.py)
        self.title.draw()
        if self.screenshot_due:   # the images only, without help or hover
            self.screenshot_due = False
            name = Path(time.strftime("gallery-%Y%m%d-%H%M%S.png"))
            self.save_snapshot(name)
            print(f"gallery: saved {name.resolve()}")
        if self.args.snapshot:
            if self.scene.is_sharp() or self.frame_count >= SNAPSHOT_MAX_FRAMES:
                self.save_snapshot(self.args.snapshot)
                self.snapshot_saved = True
                self.exit_sketch()
            return
        self.draw_hover()
        if self.show_help:
            self.draw_help()

    def save_snapshot(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            self.save_frame(str(tmp))

    # --- interaction -------------------------------------------------------------------------
    def key_pressed(self, event):
        scene, now = self.scene, self.now()
        if self.key == "t":
            scene.go_to(scene.layout, toggle(scene.state, STATES), now)
        elif self.key == "b":
            scene.go_to(step_layout(scene.doc, scene.layout, 1), scene.state, now)
        elif self.key in tuple("123456789") and int(self.key) <= len(scene.layout_names):
            scene.go_to(scene.layout_names[int(self.key) - 1], scene.state, now)
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
        elif self.key == self.CODED and self.key_code in (self.LEFT, self.RIGHT) and not event.is_shift_down():
            scene.go_to(step_layout(scene.doc, scene.layout, 1 if self.key_code == self.RIGHT else -1), scene.state, now)
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
            self.hover, self.hover_image, self.hover_sharp, self.hover_cell_sharp = index, None, False, False
            if index is not None:
                try:
                    self.originals.request(index, self.hover_file)
                except ValueError:   # a path leaving its folder: only the atlas cell is shown
                    pass

    @property
    def hover_file(self) -> Path | None:
        """The original file of the image under the mouse (None where the layout's image folder is not trusted:
        layoutfile/trust.py)."""
        root = None if self.hover is None else trusted_source(self.scene.doc, self.args.layout_file)
        return None if root is None else image_path(self.scene.doc, self.hover, root)

    # --- overlays ----------------------------------------------------------------------------
    @property
    def ui_font(self):
        """Help and hover text: FONT at TEXT_SIZE (made once, at its first use)."""
        if getattr(self, "_ui_font", None) is None:
            self._ui_font = self.create_font(FONT, TEXT_SIZE)
        return self._ui_font

    def draw_hover(self):
        if self.hover is None or not self.show_hover:
            return
        if not self.hover_sharp:
            self.update_hover_image()
        if self.hover_image is None:
            return
        self.text_font(self.ui_font)
        lines = (wrap_text(printable(self.scene.doc["images"][self.hover]["path"]), HOVER_PX, self.text_width,
                           NAME_LINES) if self.show_captions else [])
        line = TEXT_SIZE + 4
        height = HOVER_PX + 8 + (len(lines) * line + 6 if lines else 0)
        x, y = (round(v) for v in panel_position(self.hovered_rect(), (HOVER_PX + 8, height),
                                                 (self.width, self.height)))   # whole pixels: crisp text
        self.no_stroke()
        self.fill(0, 200)
        self.rect(x, y, HOVER_PX + 8, height)
        self.image(self.hover_image, x + 4, y + 4, HOVER_PX, HOVER_PX)
        self.fill(255)
        self.text_align(self.LEFT, self.TOP)
        for k, text in enumerate(lines):
            self.text(text, x + 4, y + HOVER_PX + 10 + k * line)

    def update_hover_image(self) -> None:
        """The sharpest picture of the hovered image there is yet: its original file once decoded (a thread),
        until then the atlas cell (the sharpest level once read); each new picture is made into an image once."""
        original = self.originals.get(self.hover)
        if original is not None:
            self.hover_image, self.hover_sharp = self.create_image_from_numpy(original, "RGB"), True
            return
        if not self.hover_cell_sharp:
            pixels, sharp = self.scene.thumbnail(self.hover)
            if pixels is not None and (self.hover_image is None or sharp):
                self.hover_image, self.hover_cell_sharp = self.create_image_from_numpy(pixels, "RGB"), sharp
        self.hover_sharp = self.hover_cell_sharp and self.originals.failed(self.hover)

    def hovered_rect(self) -> tuple[float, float, float, float]:
        """Where the hovered image is on screen now (x0, y0, x1, y1)."""
        cx, cy, side = self.scene.animator.placement(self.hover, self.now())
        x0, y0 = self.scene.view.to_screen(cx - side / 2, cy - side / 2)
        x1, y1 = self.scene.view.to_screen(cx + side / 2, cy + side / 2)
        return x0, y0, x1, y1

    def draw_help(self):
        scene = self.scene
        rows = [*KEYS, ("layout", layout_line(scene.doc, scene.layout)),
                ("now", f"{scene.state}, {len(scene.doc['images'])} images"),
                ("fps", f"{self.get_frame_rate():.1f}")]
        self.text_font(self.ui_font)
        key_width = max(self.text_width(key) for key, _ in rows)
        what_width = max(self.text_width(what) for _, what in rows)
        pad, gutter, line = 14, 18, TEXT_SIZE + 9
        key_right = 20 + pad + key_width          # keys right-aligned here, meanings left-aligned after the gutter
        self.no_stroke()
        self.fill(0, 190)
        self.rect(20, 20, 2 * pad + key_width + gutter + what_width, line * len(rows) + 2 * pad - 8)
        self.fill(255)
        for i, (key, what) in enumerate(rows):
            top = 20 + pad + line * i
            self.text_align(self.RIGHT, self.TOP)
            self.text(key, key_right, top)
            self.text_align(self.LEFT, self.TOP)
            self.text(what, key_right + gutter, top)


class InstalledGallery(InstallationMixin, Gallery):
    """gallery.py --install: the gallery running unattended (sketches/lib/installation.py)."""
