"""Gallery: images arranged by look, flying between their t-SNE positions and their grid cells.

    python sketches/gallery.py LAYOUT.json                  window (press h for the keys)
    python sketches/gallery.py LAYOUT.json --fullscreen
    python sketches/gallery.py LAYOUT.json --snapshot out.png --layout blur --state grid --size 960x540
    python sketches/gallery.py LAYOUT.json --background "#f4f1ea" --gap 0.1 --fly 4 --title "Harbour"

(or `tsne-gallery LAYOUT.json …`, the same program installed as a command).

Needs an X display (or `xvfb-run -a -s "-screen 0 1920x1080x24" ...`) and Java 17+.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from layoutfile import UserError, printable
from sketches.lib.installation import prepare_installation
from sketches.lib.layout import check_layout_name, load_layout
from sketches.lib.look import add_look_options, look_options, make_look
from sketches.lib.options import check_frame_size, window_size
from sketches.lib.preflight import require_display_and_java
from sketches.lib.stop import StopOnSignal, exit_now


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("layout_file", type=Path, metavar="LAYOUT.json", help="layout file written by `python -m embed`")
    parser.add_argument("--size", type=window_size, default="1280x720",
                        help="window size WxH (default 1280x720)")
    parser.add_argument("--fullscreen", action="store_true", help="full screen instead of a window")
    parser.add_argument("--snapshot", type=Path, metavar="FILE.png", help="render one frame to FILE.png and exit")
    parser.add_argument("--install", nargs="?", const="", metavar="CONFIG.json",
                        help="installation mode: full screen, no cursor, attract loop, OSC remote control, hot "
                             "reload, log file; options from CONFIG.json (see sketches/lib/install_config.py)")
    add_look_options(parser)
    args = parser.parse_args(argv)
    args.width, args.height = args.size
    try:
        args.look = make_look(look_options(args), None)
    except UserError as exc:
        parser.error(str(exc))
    return args


def prepare(argv: list[str]) -> argparse.Namespace:
    """Parse options and check everything that can fail before Java starts; exit 2 with one line if not."""
    args = parse_args(argv)
    try:
        if not args.fullscreen or args.snapshot:
            check_frame_size(args.width, args.height)
        args.doc = load_layout(args.layout_file)
        args.installation = (None if args.install is None
                             else prepare_installation(args.install or None, args.layout_file,
                                                       tuple(args.doc["layouts"])))
        if args.installation:   # the command line's look keys override the config file's
            args.look = make_look(look_options(args), None, args.installation.config.look)
        if args.look.layout is not None:   # --layout or the config's "layout": any name of the file
            check_layout_name(args.doc, args.look.layout, args.layout_file)
        require_display_and_java()
    except UserError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        sys.exit(exc.exit_status)
    return args


def main(argv: list[str] | None = None) -> NoReturn:
    """Check the input, display and Java, run the sketch, then end the process with its exit status:
    0 when it was quit (a key, OSC /gallery/quit, SIGTERM or SIGINT) or the snapshot is written, 1 after a crash
    or a snapshot not written, 2 on bad input."""
    stop = StopOnSignal()
    args = prepare(sys.argv[1:] if argv is None else argv)
    from sketches.gallery_sketch import Gallery, InstalledGallery, window_colour   # imports py5: starts Java

    sketch = (InstalledGallery if args.installation else Gallery)(args)
    stop.attach(sketch)
    sketch.run_sketch(block=True, py5_options=[window_colour(args.look)])
    status = 0
    if sketch.is_dead_from_error:   # py5 printed the traceback; close the window so the process ends
        sketch.exit_sketch()
        status = 1
    elif sketch.error:
        print(f"error: {sketch.error}", file=sys.stderr)
        status = 2
    elif args.snapshot and not sketch.snapshot_saved:   # e.g. the window could not be made: never 0 without the file
        print(f"error: {printable(args.snapshot)}: snapshot not written (the sketch stopped before drawing it)",
              file=sys.stderr)
        status = 1
    exit_now(status)


if __name__ == "__main__":
    main()
