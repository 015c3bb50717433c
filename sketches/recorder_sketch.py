"""The recorder sketch (py5, class mode): frame k of a playlist drawn at time k / fps, handed to a frame sink.

Imported by `sketches/record.py` once its checks have passed: importing py5 starts Java.
"""

from __future__ import annotations

import argparse
import sys
import time

import py5
from tqdm import tqdm

from layoutfile import UserError
from sketches.lib.gltexture import max_texture_size
from sketches.lib.options import check_frame_size
from sketches.lib.playlist import PlaylistPlayer, apply_moves
from sketches.lib.look import Look
from sketches.lib.scene import Scene
from sketches.lib.title import TitleLine

DETAIL_WAIT_S = 120.0    # longest wait per frame for sharper atlas cells to be read


class Recorder(py5.Sketch):
    """Draws frame k at time k / fps as fast as it can and hands every frame to `sink`."""

    def __init__(self, args: argparse.Namespace, sink, progress: tqdm) -> None:
        super().__init__()
        self.args, self.sink, self.progress = args, sink, progress
        self.player = PlaylistPlayer(args.playlist_data)
        self.error: str | None = None
        self.error_status = 1   # 2 when the error is the user's input (a size this graphics card cannot draw)
        self.warned_blurry = False

    def settings(self):
        self.size(self.args.width, self.args.height, self.P2D)
        self.pixel_density(1)

    def setup(self):
        self.frame_rate(1000)   # as fast as possible: time comes from the frame number
        first = self.args.playlist_data.steps[0]
        try:
            check_frame_size(self.pixel_width, self.pixel_height, max_texture_size(), card=True, memory=False)
            self.look = getattr(self.args, "look", None) or Look()
            self.scene = Scene(self, self.args.doc, self.args.layout_file, first.layout, first.state, self.look)
            self.title = TitleLine(self, self.look)
        except UserError as exc:
            self.fail(str(exc), status=exc.exit_status)
            return
        apply_moves(self.scene, self.player.start(0.0))

    def draw(self):
        if self.error:
            return
        try:
            frame = self.frame_count - 1
            now = frame / self.args.fps
            apply_moves(self.scene, self.player.update(now))
            self.draw_settled(now)
            self.load_np_pixels()
            self.sink.write(self.np_pixels[:, :, 1:])   # ARGB → RGB
        except Exception as exc:   # a failed frame ends the recording with one line; the output is discarded
            self.fail(f"frame {self.frame_count - 1}: {exc!r}")
            return
        self.progress.update()
        if frame + 1 >= self.args.frames:
            self.exit_sketch()

    def draw_settled(self, now: float) -> None:
        """Draw the frame, and redraw it until the sharper atlas cells it needs are read and drawn.

        While images fly every sketch draws the smallest level (is_sharp() holds at once). Once they rest,
        the live gallery sharpens images a few frames late (chosen once the view is still, read on a
        thread); a recording must not depend on timing, so each frame waits for its detail layer.
        """
        deadline = time.monotonic() + DETAIL_WAIT_S
        while True:
            self.background(*self.look.background_rgb)
            self.scene.draw(now)
            self.title.draw()
            if self.scene.is_sharp():
                return
            if time.monotonic() > deadline:
                if not self.warned_blurry:
                    tqdm.write(f"record: warning: sharper atlas cells not read within {DETAIL_WAIT_S:g} s; "
                               f"frame {self.frame_count - 1} and maybe others use the small cells", file=sys.stderr)
                    self.warned_blurry = True
                return
            time.sleep(0.005)
            self.scene.detail.last_rebuild = float("-inf")   # repack now: `now` stands still within a frame

    def fail(self, message: str, status: int = 1) -> None:
        self.error, self.error_status = message, status
        self.exit_sketch()
