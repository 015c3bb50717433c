"""Record: render a scripted fly-through of a layout frame by frame to an MP4 (or a PNG sequence).

    python sketches/record.py LAYOUT.json -o fly.mp4 --size 1920x1080 --fps 30
    python sketches/record.py LAYOUT.json -o fly.mp4 --playlist show.json --duration 60
    python sketches/record.py LAYOUT.json -o frames/ --png
    python sketches/record.py LAYOUT.json -o fly.mp4 --background "#f4f1ea" --gap 0.1 --title "Harbour"

(or `tsne-gallery-record LAYOUT.json …`, the same program installed as a command).

Time comes from the frame number (frame k shows time k / fps), not from the clock, so the video is
the same however fast the machine draws: 10 s at 30 fps is exactly 300 frames. Without --playlist
every layout of the file plays once, each in its t-SNE state and its grid (playlist.default_playlist),
flying from the first frame on (no opening hold); --duration cuts or loops the playlist to that many
seconds. The look options are the gallery's (sketches/lib/look.py) but fly, easing, layout and state, which
the playlist sets. Works headless under xvfb-run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import traceback
from pathlib import Path
from typing import NoReturn

from tqdm import tqdm

from layoutfile import UserError, layout_names, printable
from sketches.lib.layout import load_layout
from sketches.lib.look import add_look_options, look_options, make_look
from sketches.lib.options import check_frame_size, window_size
from sketches.lib.playlist import default_playlist, load_playlist
from sketches.lib.preflight import require_display_and_java
from sketches.lib.stop import exit_now
from sketches.lib.video import Mp4Writer, PngSequenceWriter, frame_count


PLAYLIST_KEYS = ("fly", "easing", "layout", "state")   # look keys a recording takes from its playlist instead


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("layout_file", type=Path, metavar="LAYOUT.json",
                        help="layout file written by `python -m embed`")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="video file to write (.mp4), or a folder for the frames with --png")
    parser.add_argument("--size", type=window_size, default="1920x1080",
                        help="frame size WxH in pixels (default 1920x1080)")
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    parser.add_argument("--playlist", type=Path, metavar="FILE.json",
                        help="playlist to play (default: every layout of the file, t-SNE and grid, once, moving from the "
                             "first frame)")
    parser.add_argument("--duration", type=float, metavar="SECONDS",
                        help="length of the recording: cuts the playlist short or loops it (default one pass)")
    parser.add_argument("--png", action="store_true", help="write frame_000000.png … into OUTPUT instead of a video")
    parser.add_argument("--crf", type=int, default=18, help="H.264 quality, 0 (lossless) to 51 (worst); default 18")
    add_look_options(parser, exclude=PLAYLIST_KEYS)
    args = parser.parse_args(argv)
    try:
        args.look = make_look(look_options(args), None)
    except UserError as exc:
        parser.error(str(exc))
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
        check_frame_size(args.width, args.height)
        args.doc = load_layout(args.layout_file)
        names = layout_names(args.doc)
        args.playlist_data = (default_playlist(names, first_hold=0.0, first_easing="back-out") if args.playlist is None
                              else load_playlist(args.playlist, names, str(args.layout_file)))
        require_display_and_java()
    except UserError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        sys.exit(exc.exit_status)
    if args.duration is None:
        args.duration = args.playlist_data.single_pass_duration()
    else:
        args.playlist_data = dataclasses.replace(args.playlist_data, loop=True)
    args.frames = frame_count(args.duration, args.fps)
    return args


class RecordingFailed(Exception):
    """The recorder stopped before writing every frame (`status`: the exit status it ends with)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def main(argv: list[str] | None = None) -> NoReturn:
    """Check the input, display and Java, record, then end the process: 0 when every frame was written, 1 when
    the recording failed, 2 on bad input. The process ends without the JVM's teardown (sketches/lib/stop.py),
    which could hang once a sketch had failed and where JOGL printed "X11Util: Open X11 Display
    Connections" lines."""
    try:
        status = record(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:             # a one-line error before Java (or --help)
        status = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        print("record: interrupted", file=sys.stderr)
        status = 130
    except BaseException:                 # a crash: its traceback, and still an end (never a hang)
        traceback.print_exc()
        status = 1
    exit_now(status)


def record(argv: list[str]) -> int:
    """Check the input, display and Java, then record; return the exit status."""
    args = prepare(argv)
    from sketches.recorder_sketch import Recorder   # imports py5, which starts Java

    started = time.perf_counter()
    size = (args.width, args.height)
    sink = PngSequenceWriter(args.output, size) if args.png else Mp4Writer(args.output, size, args.fps, args.crf)
    try:
        with sink, tqdm(total=args.frames, unit="frame", desc="record", file=sys.stderr) as progress:
            recorder = Recorder(args, sink, progress)
            recorder.run_sketch(block=True)
            if recorder.error:
                raise RecordingFailed(recorder.error, recorder.error_status)
            if sink.frames_written != args.frames:
                raise RecordingFailed(f"stopped after {sink.frames_written} of {args.frames} frames")
    except RecordingFailed as exc:
        kept = f"the frames so far are in {args.output}" if args.png else f"{args.output} not written"
        print(f"error: recording failed ({kept}): {exc}", file=sys.stderr)
        return exc.status
    elapsed = time.perf_counter() - started
    print(f"record: wrote {args.output}: {args.frames} frames of {args.width}x{args.height} at {args.fps:g} fps "
          f"({args.frames / args.fps:.2f} s of video) in {elapsed:.1f} s ({args.frames / elapsed:.1f} frames/s)")
    return 0


if __name__ == "__main__":
    main()
