"""Installation mode: unattended attract loop, remote control, hot reload and a log file.

`gallery.py LAYOUT.json --install [CONFIG.json]` runs the gallery sketch with `InstallationMixin`,
which calls an `Installation`: `start()` in setup() once the Scene exists, `update(now)` at the top
of draw(), `on_interaction(now)` on every visitor key/mouse event and `close()` on exit.
Its settings come from an optional JSON config file, whose keys are listed in install_config.py.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import psutil

from layoutfile import LAYOUTS, STATES, UserError, layout_names, printable, toggle
from sketches.lib.install_config import InstallConfig, load_install_config
from sketches.lib.playlist import Playlist, PlaylistPlayer, apply_moves, default_playlist, load_playlist
from sketches.lib.reload import LayoutWatcher
from sketches.lib.remote import NEXT, PREVIOUS, TOGGLE, Command, RemoteControl

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_file: str | os.PathLike) -> None:
    """Log INFO and up to `log_file` (appended) and warnings to stderr."""
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(file_handler)
    root.addHandler(console)


def gl_facts() -> str:
    """OpenGL renderer, version and vendor of the running sketch (call after setup() began)."""
    import jpype  # py5's JVM bridge; only reachable once a sketch runs

    gl = jpype.JClass("processing.opengl.PGraphicsOpenGL")
    return f"{gl.OPENGL_RENDERER} | OpenGL {gl.OPENGL_VERSION} | {gl.OPENGL_VENDOR} | max texture {gl.maxTextureSize}"


def log_startup_facts(sketch: Any, doc: dict, layout_path: Path) -> None:
    """Log what an operator needs to know at start: images, atlases, screen, GL renderer."""
    log.info("layout %s: %d images, grid %dx%d, %d skipped at embed time", layout_path, len(doc["images"]),
             doc["grid"]["cols"], doc["grid"]["rows"], len(doc.get("skipped", [])))
    for level in doc["atlas"]["levels"]:
        log.info("atlas level: %d px cells, %d sheet(s) of %d px", level["cell_px"], len(level["files"]),
                 level["sheet_px"])
    log.info("screen %dx%d, sketch %dx%d", sketch.display_width, sketch.display_height, sketch.width, sketch.height)
    log.info("GL: %s", gl_facts())


class Installation:
    """Drives a Scene unattended: playlist loop, visitor idle resume, OSC commands, hot reload, fps log."""

    def __init__(self, config: InstallConfig, layout_path: str | os.PathLike, layouts: tuple[str, ...] = LAYOUTS):
        self.config = config
        self.layout_path = Path(layout_path)
        self.player = PlaylistPlayer(self.playlist_for(layouts), config.idle_seconds)
        # listening starts here, before the sketch, so that a port in use is a one-line error
        self.remote = (None if config.osc_port is None
                       else RemoteControl(config.osc_host, config.osc_port, layouts=layouts))
        self._commands = 0   # remote commands carried out since the last fps line
        self.watcher: LayoutWatcher | None = None
        self.sketch: Any = None
        self.scene: Any = None
        self._frames = 0
        self._fps_since = 0.0
        self._process = psutil.Process()

    def playlist_for(self, layouts: tuple[str, ...]) -> Playlist:
        """The configured playlist checked against a layout file's `layouts`, or without one every layout in turn.

        Raises PlaylistError (one line) when the configured playlist names a layout the file does not have.
        """
        if self.config.playlist is None:
            return default_playlist(layouts)
        return load_playlist(self.config.playlist, layouts, str(self.layout_path))

    def start(self, sketch: Any, scene: Any, doc: dict, now: float) -> None:
        """Call in setup() once the Scene exists: hides the cursor, starts the loop and the file watcher."""
        self.sketch, self.scene = sketch, scene
        sketch.no_cursor()
        print(f"gallery: installation running; log: {printable(self.config.log_file.resolve())}; stop it with "
              f"{QUIT_KEYS}{self._osc_quit()} or SIGTERM (Ctrl-C here)", flush=True)
        log_startup_facts(sketch, doc, self.layout_path)
        log.info("attract loop: %s, %d steps, resumes %g s after a visitor",
                 self.config.playlist or "every layout in turn",
                 len(self.player.playlist.steps), self.config.idle_seconds)
        self.watcher = LayoutWatcher(self.layout_path, self.config.reload_interval)
        first = self.player.start(now)
        look = self.config.look
        if look.layout is not None or look.state is not None:   # the config's start picture, held as step 1's
            first = [dataclasses.replace(first[0], layout=look.layout or first[0].layout,
                                         state=look.state or first[0].state)]
        apply_moves(scene, first)
        self._fps_since = now

    def update(self, now: float) -> None:
        """Call at the top of draw(): applies queued commands, a reloaded layout and due playlist moves."""
        if self.remote is not None:
            for command in self.remote.poll():
                self.apply(command, now)
        doc = self.watcher.poll(now)
        if doc is not None:
            self.reload(doc)
        visitor_was_here = self.player.waiting_for_idle
        apply_moves(self.scene, self.player.update(now))
        if visitor_was_here and not self.player.waiting_for_idle:
            self.scene.view.fit()   # a visitor may have zoomed in and walked away
        self._log_fps(now)

    def reload(self, doc: dict) -> None:
        """Show a reloaded layout file. Its layouts may differ: the playlist and the remote control follow them;
        a configured playlist that names a layout the new file lacks keeps the current file (logged)."""
        try:
            playlist = self.playlist_for(tuple(layout_names(doc)))
        except UserError as exc:
            log.error("layout reload rejected, keeping the current layout: %s", printable(exc))
            return
        self.player.switch(playlist)
        self.scene.replace_layout(doc, fit=True)
        if self.remote is not None:
            self.remote.layouts = tuple(layout_names(doc))

    def on_interaction(self, now: float) -> None:
        """A visitor pressed a key or moved the mouse: the loop waits until they have been idle a while."""
        self.player.interrupt(now)

    def apply(self, command: Command, now: float) -> None:
        """Carry out one remote command (layout / state / loop / next / quit). Each is logged at DEBUG and
        counted in the next fps line (a flood of commands must not flood the log); quit at INFO."""
        log.log(logging.INFO if command.name == "quit" else logging.DEBUG, "remote: %s %s", command.name,
                command.value or "")
        self._commands += 1
        scene, player = self.scene, self.player
        if command.name == "layout":
            names = tuple(scene.doc["layouts"])
            steps = {TOGGLE: 1, NEXT: 1, PREVIOUS: -1}
            layout = (names[(names.index(scene.layout) + steps[command.value]) % len(names)]
                      if command.value in steps else command.value)
            if layout not in names:   # named before a reload took that layout away
                log.warning("remote: layout %s is not in the layout file (any more): ignored", layout)
                return
            scene.go_to(layout, scene.state, now)
            player.interrupt(now)
        elif command.name == "state":
            state = toggle(scene.state, STATES) if command.value == TOGGLE else command.value
            scene.go_to(scene.layout, state, now)
            player.interrupt(now)
        elif command.name == "loop":
            if command.value == "pause":
                player.pause()
            else:
                apply_moves(scene, player.play(now))
        elif command.name == "next":
            apply_moves(scene, player.next(now))
        elif command.name == "quit":
            self.sketch.exit_sketch()

    def _osc_quit(self) -> str:
        if self.config.osc_port is None:
            return ""
        return f", OSC /gallery/quit (UDP {self.config.osc_host}:{self.config.osc_port})"

    def close(self) -> None:
        if self.remote is not None:
            self.remote.close()
        if self.watcher is not None:
            self.watcher.close()
        log.info("installation stopped")

    def _log_fps(self, now: float) -> None:
        self._frames += 1
        elapsed = now - self._fps_since
        if elapsed >= self.config.fps_log_interval:
            log.info("fps %.1f (%d frames in %.0f s), resident memory %.0f MiB, %d remote commands",
                     self._frames / elapsed, self._frames, elapsed, self._process.memory_info().rss / 2**20,
                     self._commands)
            self._frames, self._fps_since, self._commands = 0, now, 0


def prepare_installation(config_path: str | os.PathLike | None, layout_path: str | os.PathLike,
                         layouts: tuple[str, ...] = LAYOUTS) -> Installation:
    """Read the config and playlist, open the log file and the OSC port (accepting `layouts` by name), before
    the sketch starts.

    Raises UserError (one line) on a bad config or playlist, or an OSC port in use.
    """
    config = load_install_config(config_path)
    setup_logging(config.log_file)
    return Installation(config, layout_path, layouts)


QUIT_KEYS = "Ctrl+Shift+Q"   # the only key combination that ends an installation (Esc does not)
Q_KEY_CODE = 81


def is_quit_combination(event: Any) -> bool:
    """True for a key event of Ctrl+Shift+Q (QUIT_KEYS)."""
    return event.get_key_code() == Q_KEY_CODE and event.is_control_down() and event.is_shift_down()


class InstallationMixin:
    """Installation mode for the gallery sketch (gallery.py: `class InstalledGallery(InstallationMixin, Gallery)`).

    Full screen on the configured display, no help or screenshot keys, no key that ends the show except
    QUIT_KEYS, and the `Installation` hooked into setup, draw, every visitor event and exit; the hover
    panel shows only while a visitor is active (never with `hover: false`; without the file name with
    `captions: false`). The sketch provides `args.installation`, `args.doc`,
    `scene` (made in setup), `hover` and `now()`.
    """

    def settings(self):
        self.full_screen(self.P2D, self.args.installation.config.display)
        self.no_smooth()

    def setup(self):
        config = self.args.installation.config
        self.show_hover, self.show_captions = config.hover, config.captions
        super().setup()
        if hasattr(self, "scene"):
            self.args.installation.start(self, self.scene, self.args.doc, self.now())

    def draw(self):
        if hasattr(self, "scene"):
            self.args.installation.update(self.now())
            if not self.args.installation.player.waiting_for_idle:
                self.hover = None   # the loop runs: no file name under a pointer a visitor left behind
        super().draw()

    def exiting(self):
        self.args.installation.close()

    def key_pressed(self, event):
        if self.key == self.ESC:
            self.intercept_escape()      # a visitor's Esc never ends the show
        if is_quit_combination(event):
            log.info("quit key (%s) pressed", QUIT_KEYS)
            self.exit_sketch()
        elif self.key not in ("h", "s"):   # no help text or screenshots for visitors
            self._visitor("key_pressed", event)

    def mouse_pressed(self):
        self._visitor("mouse_pressed")

    def mouse_moved(self):
        self._visitor("mouse_moved")

    def mouse_dragged(self):
        self._visitor("mouse_dragged")

    def mouse_wheel(self, event):
        self._visitor("mouse_wheel", event)

    def _visitor(self, handler: str, *event: Any) -> None:
        self.args.installation.on_interaction(self.now())
        own = getattr(super(), handler, None)
        if own is not None:
            own(*event)
