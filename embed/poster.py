"""Poster export: one big picture of a layout (grid or t-SNE scatter) made from the original images.

The poster is rendered in horizontal bands one cell tall, so only one band (and the thumbnails
that touch it) is in memory: a 100k-image grid at 128 px (~54k × 30k px) needs ~20 MB per band.
A `.png` output is streamed band by band into the file (any size, memory stays at one band).
Other formats (JPEG, WebP, TIFF, ...) cannot be encoded incrementally by PIL, so their bands are
assembled into one in-memory image; that is refused above IN_MEMORY_PIXELS with a hint to write
a `.png` or use a smaller cell.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor
from tqdm import tqdm

from embed.options import ExtractOptions
from embed.image.file import ImageReadError, open_image
from embed.image.square import FITS, square_thumbnail, thumb_source_side
from layoutfile import (STATES, UserError, atomic_path, display_arrays, image_path, layout_arrays, layout_names, printable,
                        read_layout, tsne_world)
from layoutfile.trust import trusted_source

IN_MEMORY_PIXELS = 16384 * 16384  # ~1 GiB as a PIL RGB image
JPEG_MAX_SIDE = 65500
MAX_CELL_PX = 4096
MAX_PIXELS = 2**33                # ~8.6 Gpx, ~26 GB of raw pixels: far past any real poster (100k at 128 px: 1.6 Gpx)
MAX_BAND_BYTES = 2**30            # one band (a cell tall, the poster wide) in memory; 100k at 128 px: 20 MB
IMAGE_BACKGROUND = ExtractOptions.background  # transparency composited as in the atlas (the poster's own
                                              # background only fills empty cells and letterboxing)


def make_poster(layout_path: Path, out_path: Path, *, layout: str | None = None, state: str = "grid",
                cell_px: int = 128, source: Path | None = None, fit: str = "crop",
                background: tuple[int, int, int] = (0, 0, 0), progress: bool = True) -> Path:
    """Render layout `layout` (default: the file's first, as the gallery starts with) of `layout_path` in
    `state` ("grid" or "tsne") to `out_path`; return it.

    The canvas is grid cols × rows cells of `cell_px`. "grid" puts each image's square thumbnail in
    its grid cell; "tsne" draws the t-SNE state as the sketch does: each image centred on its display
    position (`tsne_display`, else the raw map) fitted into the grid's box, `tsne_image_size` cells wide
    (else a cell; later images overlap earlier ones). Images are decoded from the originals in `source`
    (default: the layout's params.source when trusted, layoutfile/trust.py); the layout's image paths are
    confined below it, and only regular files are read. Missing or unreadable originals (a FIFO among them)
    leave their place empty and are reported in one warning. The output is written atomically (see the module docstring for sizes).
    """
    doc = read_layout(layout_path)
    names = layout_names(doc)
    layout = names[0] if layout is None else layout
    if layout not in doc["layouts"]:
        raise UserError(f"{layout_path}: no layout {layout!r}; it holds {', '.join(names)}")
    if state not in STATES:
        raise UserError(f"unknown state {state!r}; choose one of {', '.join(STATES)}")
    if fit not in FITS:
        raise UserError(f"unknown fit {fit!r}; choose one of {', '.join(FITS)}")
    if not 1 <= cell_px <= MAX_CELL_PX:
        raise UserError(f"poster cell size must be 1 to {MAX_CELL_PX} pixels, not {cell_px}")
    if source is None:
        recorded = doc["params"].get("source")
        source = trusted_source(doc, layout_path)
        if recorded and source is None:
            raise UserError(f"{layout_path}: its image folder {printable(recorded)!r} is outside the layout's folder "
                            f"and was not recorded by this user's embed; pass the originals' folder with --source")
    if not source or not Path(source).is_dir():
        raise UserError(f"{layout_path}: image folder {printable(str(source))!r} not found; "
                        f"pass the originals' folder with --source")
    source = Path(source)

    out_path = Path(out_path)
    width, height = doc["grid"]["cols"] * cell_px, doc["grid"]["rows"] * cell_px
    streamed = out_path.suffix.lower() == ".png"
    file_format = Image.registered_extensions().get(out_path.suffix.lower())
    if file_format is None:
        raise UserError(f"{out_path}: unknown image format {out_path.suffix!r}; use .png, .jpg, .webp or .tif")
    if width * height > MAX_PIXELS or cell_px * width * 3 > MAX_BAND_BYTES:
        raise UserError(f"{out_path}: a {width}x{height} px poster of {cell_px} px cells is too large (at most "
                        f"{MAX_PIXELS:,} pixels, bands of {MAX_BAND_BYTES // 2**20} MiB); use a smaller --cell")
    too_wide_for_jpeg = file_format == "JPEG" and max(width, height) > JPEG_MAX_SIDE
    if not streamed and (width * height > IN_MEMORY_PIXELS or too_wide_for_jpeg):
        raise UserError(f"{out_path}: a {width}x{height} px poster is too large for {file_format}; "
                        f"write a .png (streamed, any size) or use a smaller --cell")

    if state == "grid":
        side, tops = cell_px, layout_arrays(doc, layout)[1] * cell_px
    else:
        display, size = display_arrays(doc, layout)
        side = max(1, round((1.0 if size is None else size) * cell_px))
        centres = tsne_world(display, doc["grid"]["cols"], doc["grid"]["rows"]) * cell_px
        tops = np.round(centres - side / 2).astype(np.int64)
    paths = [image_path(doc, i, source) for i in range(len(doc["images"]))]   # confined below `source`
    trim = doc["params"].get("trim_borders") is True   # as the build cut the photos' borders
    sides = [thumb_source_side(image["width"], image["height"], side, fit)
             if image.get("width") and image.get("height") else None for image in doc["images"]]

    def thumbnail(i: int) -> np.ndarray | None:
        try:
            img = open_image(paths[i], max_side=sides[i], background=IMAGE_BACKGROUND, trim_borders=trim)
            return square_thumbnail(img, side, fit, background)
        except ImageReadError:
            return None

    order = np.argsort(tops[:, 1], kind="stable")  # images in the order their top edge is reached
    active: dict[int, np.ndarray] = {}  # decoded thumbnails still touching the current band
    failed: list[str] = []
    next_i = 0
    with atomic_path(out_path) as tmp, ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool, \
            tqdm(total=len(paths), desc="poster", unit="img", disable=not progress) as bar:
        sink = _PngStream(tmp, width, height) if streamed else _InMemory(tmp, width, height, file_format)
        for band_top in range(0, height, cell_px):
            band_bottom = min(band_top + cell_px, height)
            start = next_i
            while next_i < len(order) and tops[order[next_i], 1] < band_bottom:
                next_i += 1
            new = order[start:next_i].tolist()
            for i, thumb in zip(new, pool.map(thumbnail, new)):
                if thumb is None:
                    failed.append(doc["images"][i]["path"])
                else:
                    active[i] = thumb
            bar.update(len(new))
            band = np.empty((band_bottom - band_top, width, 3), dtype=np.uint8)
            band[:] = background
            for i in sorted(active):
                _paste(band, active[i], int(tops[i, 0]), int(tops[i, 1]) - band_top)
            for i in [i for i in active if tops[i, 1] + side <= band_bottom]:
                del active[i]
            sink.write(band)
        sink.close()
    if failed:
        warnings.warn(f"{len(failed)} of {len(paths)} images missing or unreadable under {source} "
                      f"(left empty), e.g. {failed[0]}", stacklevel=2)
    return out_path


def add_poster_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `poster` subcommand's arguments to `parser`."""
    parser.add_argument("layout_file", type=Path, metavar="LAYOUT.json", help="layout file made by `python -m embed`")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="poster image; .png is streamed (any size), .jpg/.webp/.tif must fit in memory")
    parser.add_argument("--layout", default=None,
                        help="which layout of the file (default: its first, the one the gallery starts with)")
    parser.add_argument("--state", choices=STATES, default="grid",
                        help="grid cells or t-SNE scatter (default: grid)")
    parser.add_argument("--cell", type=int, default=128, help="pixels per image (default: 128)")
    parser.add_argument("--source", type=Path, default=None,
                        help="folder of the original images (default: the one recorded in the layout file)")
    parser.add_argument("--fit", choices=FITS, default="crop", help="square thumbnails: crop or pad (default: crop)")
    parser.add_argument("--background", type=_colour, default=(0, 0, 0),
                        help="background colour, e.g. black, white, '#202020' (default: black)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run_poster(args: argparse.Namespace) -> int:
    """Run the `poster` subcommand: make the poster, print where it went; return the exit status."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = make_poster(args.layout_file, args.output, layout=args.layout, state=args.state, cell_px=args.cell,
                           source=args.source, fit=args.fit, background=args.background,
                           progress=not args.no_progress)
    for warning in caught:
        print(f"warning: {printable(warning.message)}", file=sys.stderr)
    width, height = _image_size(path)
    print(f"poster: {printable(path)} ({width}x{height} px, {args.layout or 'first layout'}, {args.state})")
    return 0


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) of a written poster; PNGs from the header, as PIL refuses very large ones."""
    with open(path, "rb") as file:
        head = file.read(24)
    if head.startswith(b"\x89PNG"):
        return struct.unpack(">II", head[16:24])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            return img.size


def _colour(text: str) -> tuple[int, int, int]:
    try:
        return ImageColor.getrgb(text)[:3]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a colour: {text!r} (try black, white or '#202020')") from None


def _paste(band: np.ndarray, thumb: np.ndarray, x: int, y: int) -> None:
    """Copy `thumb` into `band` with its top-left at (x, y) in band coordinates, clipped to the band."""
    size = thumb.shape[0]
    y0, y1 = max(y, 0), min(y + size, band.shape[0])
    x0, x1 = max(x, 0), min(x + size, band.shape[1])
    if y0 < y1 and x0 < x1:
        band[y0:y1, x0:x1] = thumb[y0 - y:y1 - y, x0 - x:x1 - x]


class _PngStream:
    """Writes an 8-bit RGB PNG row band by row band ("Up" filter), holding only one band in memory."""

    def __init__(self, path: Path, width: int, height: int):
        self._file = open(path, "wb")
        self._zip = zlib.compressobj(1)  # level 1: ~2.5x faster than 6, files ~3% larger
        self._previous = np.zeros((width * 3,), dtype=np.uint8)
        self._file.write(b"\x89PNG\r\n\x1a\n")
        self._chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))

    def write(self, band: np.ndarray) -> None:
        rows = band.reshape(len(band), -1)
        filtered = np.empty((len(rows), rows.shape[1] + 1), dtype=np.uint8)
        filtered[:, 0] = 2  # "Up": each byte minus the byte above it
        filtered[:, 1:] = rows - np.vstack([self._previous, rows[:-1]])
        self._previous = rows[-1].copy()
        self._chunk(b"IDAT", self._zip.compress(filtered.tobytes()))

    def close(self) -> None:
        self._chunk(b"IDAT", self._zip.flush())
        self._chunk(b"IEND", b"")
        self._file.close()

    def _chunk(self, kind: bytes, data: bytes) -> None:
        if data or kind != b"IDAT":
            self._file.write(struct.pack(">I", len(data)) + kind + data
                             + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


class _InMemory:
    """Collects bands into one PIL image and saves it in `file_format` at the end."""

    def __init__(self, path: Path, width: int, height: int, file_format: str):
        self._path, self._format = path, file_format
        self._image = Image.new("RGB", (width, height))
        self._y = 0

    def write(self, band: np.ndarray) -> None:
        self._image.paste(Image.fromarray(band), (0, self._y))
        self._y += len(band)

    def close(self) -> None:
        options = {"quality": 92} if self._format in ("JPEG", "WEBP") else {}
        try:
            self._image.save(self._path, self._format, **options)
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot write the poster as {self._format}: {exc}") from None
