"""Record: render a scripted fly-through of a layout frame by frame to an MP4 (or a PNG sequence).

    python sketches/record.py LAYOUT.json -o fly.mp4 --size 1920x1080 --fps 30
    python sketches/record.py LAYOUT.json -o fly.mp4 --playlist show.json --duration 60
    python sketches/record.py LAYOUT.json -o frames/ --png

Time comes from the frame number (frame k shows time k / fps), not from the clock, so the video is
the same however fast the machine draws: 10 s at 30 fps is exactly 300 frames. Without --playlist
the default one plays once (blur t-SNE → grid → combined grid → combined t-SNE); --duration cuts
or loops the playlist to that many seconds. Works headless under xvfb-run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run as a script from anywhere

from layoutfile import UserError  # noqa: E402
from sketches.lib.layout import load_layout  # noqa: E402
from sketches.lib.playlist import PlaylistPlayer, apply_moves, load_playlist  # noqa: E402
from sketches.lib.options import window_size  # noqa: E402
from sketches.lib.preflight import require_display_and_java  # noqa: E402
from sketches.lib.video import Mp4Writer, PngSequenceWriter, frame_count  # noqa: E402

BACKGROUND = 24          # grey level behind the images, as in the gallery
DETAIL_WAIT_S = 120.0    # longest wait per frame for sharper atlas cells to be read


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="record.py", description=__doc__.split("\n")[0])
    parser.add_argument("layout_file", type=Path, metavar="LAYOUT.json",
                        help="layout file written by `python -m embed`")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="video file to write (.mp4), or a folder for the frames with --png")
    parser.add_argument("--size", type=window_size, default="1920x1080",
                        help="frame size WxH in pixels (default 1920x1080)")
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    parser.add_argument("--playlist", type=Path, metavar="FILE.json",
                        help="playlist to play (default assets/playlists/default.json, played once)")
    parser.add_argument("--duration", type=float, metavar="SECONDS",
                        help="length of the recording: cuts the playlist short or loops it (default one pass)")
    parser.add_argument("--png", action="store_true", help="write frame_000000.png … into OUTPUT instead of a video")
    parser.add_argument("--crf", type=int, default=18, help="H.264 quality, 0 (lossless) to 51 (worst); default 18")
    args = parser.parse_args(argv)
    args.width, args.height = args.size
    if args.png and args.output.is_file():
        parser.error(f"--png writes frames into a folder, but {args.output} is a file")
    if not args.png and args.output.is_dir():
        parser.error(f"{args.output} is a folder; give a video file name such as fly.mp4 (or use --png)")
    if not args.png and (args.width % 2 or args.height % 2):
        parser.error(f"--size {args.width}x{args.height}: H.264 video needs an even width and height")
    if not args.fps > 0:
        parser.error("--fps must be more than 0")
    if args.duration is not None and not args.duration > 0:
        parser.error("--duration must be more than 0 seconds")
    if not 0 <= args.crf <= 51:
        parser.error("--crf must be between 0 and 51")
    return args


def prepare(argv: list[str]) -> argparse.Namespace:
    """Parse options and check every input before Java starts; exit 2 with one line on a problem."""
    args = parse_args(argv)
    try:
        args.doc = load_layout(args.layout_file)
        args.playlist_data = load_playlist(args.playlist)
        require_display_and_java()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    if args.duration is None:
        args.duration = args.playlist_data.single_pass_duration()
    else:
        args.playlist_data = dataclasses.replace(args.playlist_data, loop=True)
    args.frames = frame_count(args.duration, args.fps)
    return args


if __name__ == "__main__":
    ARGS = prepare(sys.argv[1:])

import py5  # noqa: E402  (after prepare(): bad input or no display gives one line, not a Java trace)
from tqdm import tqdm  # noqa: E402

from sketches.lib.scene import Scene  # noqa: E402


class Recorder(py5.Sketch):
    """Draws frame k at time k / fps as fast as it can and hands every frame to `sink`."""

    def __init__(self, args: argparse.Namespace, sink, progress: tqdm) -> None:
        super().__init__()
        self.args, self.sink, self.progress = args, sink, progress
        self.player = PlaylistPlayer(args.playlist_data)
        self.error: str | None = None
        self.warned_blurry = False

    def settings(self):
        self.size(self.args.width, self.args.height, self.P2D)
        self.pixel_density(1)

    def setup(self):
        self.frame_rate(1000)   # as fast as possible: time comes from the frame number
        first = self.args.playlist_data.steps[0]
        try:
            self.scene = Scene(self, self.args.doc, self.args.layout_file, first.layout, first.state)
        except UserError as exc:
            self.fail(str(exc))
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

        The live gallery sharpens images a few frames late (chosen once the view is still, read on a
        thread); a recording must not depend on timing, so each frame waits for its detail layer.
        """
        deadline = time.monotonic() + DETAIL_WAIT_S
        while True:
            self.background(BACKGROUND)
            self.scene.draw(now)
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

    def fail(self, message: str) -> None:
        self.error = message
        self.exit_sketch()


class RecordingFailed(Exception):
    pass


def main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    size = (args.width, args.height)
    sink = PngSequenceWriter(args.output, size) if args.png else Mp4Writer(args.output, size, args.fps, args.crf)
    try:
        with sink, tqdm(total=args.frames, unit="frame", desc="record", file=sys.stderr) as progress:
            recorder = Recorder(args, sink, progress)
            recorder.run_sketch(block=True)
            if recorder.error:
                raise RecordingFailed(recorder.error)
            if sink.frames_written != args.frames:
                raise RecordingFailed(f"stopped after {sink.frames_written} of {args.frames} frames")
    except RecordingFailed as exc:
        kept = f"the frames so far are in {args.output}" if args.png else f"{args.output} not written"
        print(f"error: recording failed ({kept}): {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(f"record: wrote {args.output}: {args.frames} frames of {args.width}x{args.height} at {args.fps:g} fps "
          f"({args.frames / args.fps:.2f} s of video) in {elapsed:.1f} s ({args.frames / elapsed:.1f} frames/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
