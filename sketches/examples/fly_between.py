"""Fly every image of a layout file between two of its layouts: a starting point for a sketch of your own.

    python sketches/examples/fly_between.py LAYOUT.json [FROM TO] [--state grid] [--frames N --snapshot out.png]

py5 module mode, no shader: each frame asks sketches.lib.motion where every image is and draws it from the
atlas with py5.image(). Change the easing, the duration or the path there and see what happens.
"""

import argparse
import sys

import py5

from layoutfile import UserError, atlas_paths, cell_origin, layout_names
from sketches.lib.layout import check_layout_name, grid_size, load_layout, world_positions
from sketches.lib.motion import Animator
from sketches.lib.stop import exit_now
from sketches.lib.view import View

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("layout_file", metavar="LAYOUT.json")
parser.add_argument("layouts", nargs="*", metavar="NAME", help="two layouts (default: the file's first and last)")
parser.add_argument("--state", choices=("tsne", "grid"), default="tsne")
parser.add_argument("--frames", type=int, help="stop after this many frames")
parser.add_argument("--snapshot", metavar="FILE.png", help="save the last frame here")
args = parser.parse_args()
try:
    doc = load_layout(args.layout_file)
    names = args.layouts or [layout_names(doc)[0], layout_names(doc)[-1]]
    if len(names) != 2:
        raise UserError(f"give two layout names, not {len(names)}")
    for name in names:
        check_layout_name(doc, name, args.layout_file)
except UserError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)

places = world_positions(doc)              # (layout, state) -> (N, 3) array of x, y, side in grid cells
flight = Animator(places[names[0], args.state])
level = doc["atlas"]["levels"][0]          # the smallest atlas level: cell_px pixels per image
FPS, FLY, HOLD = 30, 3.0, 1.0              # time comes from the frame number: the same picture on any machine


def setup():
    global sheets, view
    py5.size(960, 540, py5.P2D)
    sheets = [py5.load_image(str(path)) for path in atlas_paths(doc, args.layout_file)[0]]
    view = View(py5.width, py5.height, *grid_size(doc))


def draw():
    now = (py5.frame_count - 1) / FPS
    if not flight.is_animating(now - HOLD):  # landed and held: fly to the other layout
        names.reverse()
        flight.retarget(places[names[0], args.state], now, duration=FLY, easing="back-out")
    py5.background(24)
    cell = level["cell_px"]
    for image, (x, y, side) in zip(doc["images"], flight.positions(now)):
        left, top = view.to_screen(x - side / 2, y - side / 2)
        u, v = cell_origin(image["atlas_cell"], cell, level["sheet_px"])
        size = side * view.scale
        py5.image(sheets[image["atlas_sheet"]], left, top, size, size, u, v, u + cell, v + cell)
    if args.frames and py5.frame_count >= args.frames:
        if args.snapshot:
            py5.save_frame(args.snapshot)
        py5.exit_sketch()


py5.run_sketch(block=True)
exit_now(0)   # skip the JVM's teardown (JOGL would print X11Util lines)
