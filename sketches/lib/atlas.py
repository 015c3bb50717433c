"""Atlas sheets as textures, texture coordinates per image, and cells of a sharper level on demand.

Contract (docs/layout-format.md): cell c of a sheet with k = sheet_px // cell_px cells per side sits at
pixel ((c % k) * cell_px, (c // k) * cell_px); every level keeps the same sheet/cell per image.

No frame waits for the disk or a decoder. The smallest level is loaded whole (every image, always): its
sheets are decoded, checked and given their mip levels on a background thread, then uploaded a band of
rows at a time over the following frames (`load_sheets`, a few milliseconds a frame); a sheet is drawn
once it is complete. Sharper levels are read cell by cell on background threads (CellLoader) for the
images on screen when zoomed in, and for hover; decoded sheets are kept up to KEEP_BYTES. As soon as the
smallest level is in, the sharper levels work ahead (`CellLoader.preload`): up to 2,048 images, every
cell is made; up to one 8192 px sheet, it is decoded and kept; so the first zoom waits for no decode.

A damaged sheet (truncated, corrupt, wrong size) is logged once and never drawn as garbage: a damaged
sheet of the smallest level is rebuilt from the sharper level's cells; the images of a damaged sharper
sheet stay at the smallest level. Only images that no level can show are left out.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image

from layoutfile import atlas_paths, cell_origin, open_regular

from .gltexture import GLTexture, TextureUpload, level_count, mip_levels
from .memory import release_free_memory

log = logging.getLogger(__name__)

UPLOAD_BUDGET_S = 0.004   # texture upload time per frame once images are on screen
START_BUDGET_S = 0.1      # ... and before: nothing moves yet, so the first sheet goes up in a frame or two
KEEP_BYTES = 256 * 2**20  # decoded sheets of a sharper level kept in memory (one 8192 px sheet: 192 MiB)


def read_sheet(path: Path, sheet_px: int) -> np.ndarray:
    """An atlas sheet's (sheet_px, sheet_px, 3) uint8 pixels; raises ValueError saying why it is damaged."""
    try:
        with open_regular(path) as file, Image.open(file) as img:   # never blocks on a FIFO
            img.load()
            if img.size != (sheet_px, sheet_px):
                raise ValueError(f"is {img.size[0]}x{img.size[1]} px, not {sheet_px}x{sheet_px}")
            return np.asarray(img if img.mode == "RGB" else img.convert("RGB"))
    except ValueError:
        raise
    except Exception as exc:   # PIL reports damage as OSError, SyntaxError, EOFError, struct.error, ...
        raise ValueError(str(exc) or type(exc).__name__) from None


def damaged(path: Path, reason: str, fallback: str) -> None:
    """Log a damaged atlas sheet (once, where it is found) and what is shown instead."""
    log.warning("atlas sheet %s cannot be decoded (%s): %s; re-run `python -m embed` to repair it", path, reason,
                fallback)


class Atlas:
    """All atlas levels of a layout document; the smallest one as GL textures."""

    def __init__(self, sketch, doc: dict, layout_path: str | Path, eager: bool = False) -> None:
        """`eager`: nothing is on screen yet, so the first sheet may take a longer frame (START_BUDGET_S)."""
        files = atlas_paths(doc, layout_path)
        levels = doc["atlas"]["levels"]
        order = sorted(range(len(levels)), key=lambda i: levels[i]["cell_px"])
        self.sketch, self.eager = sketch, eager
        self.levels = [dict(levels[i], paths=files[i]) for i in order]   # smallest cell first
        self.sheet = np.array([int(im["atlas_sheet"]) for im in doc["images"]], np.int64)
        self.cell = np.array([int(im["atlas_cell"]) for im in doc["images"]], np.int64)
        self.textures: list[GLTexture | None] = [None] * len(self.levels[0]["paths"])   # complete base sheets
        self.missing: set[int] = set()        # base sheets no level can provide: their images are not drawn
        self._uploading: tuple[int, TextureUpload] | None = None
        self._decoded: queue.Queue = queue.Queue(maxsize=1)
        self._stopped = threading.Event()
        self.loaders = [CellLoader(level, self.sheet, self.cell, keep_bytes=KEEP_BYTES) for level in self.levels[1:]]
        base_bytes = int(self.levels[0]["sheet_px"]) ** 2 * 3
        sharp_kept = self.loaders[-1].kept if self.loaders else None   # hover reads the zoom's decoded sheets
        self.hover_loaders = (CellLoader(self.levels[0], self.sheet, self.cell, 64, quiet=True, keep_bytes=base_bytes),
                              CellLoader(self.levels[-1], self.sheet, self.cell, 64, quiet=True, keep_bytes=KEEP_BYTES,
                                         kept=sharp_kept))   # hover: quick, sharp
        self._thread = threading.Thread(target=self._decode_sheets, name="atlas-sheets", daemon=True)
        self._thread.start()

    # --- the smallest level, whole -------------------------------------------------------------------------
    def _decode_sheets(self) -> None:
        base = self.levels[0]
        for s, path in enumerate(base["paths"]):
            try:
                pixels = read_sheet(path, int(base["sheet_px"]))
            except ValueError as exc:
                pixels = self._rebuilt_from_sharper(s, path, str(exc))
            item = (s, None if pixels is None else mip_levels(pixels, level_count(int(base["cell_px"]))))
            while not self._stopped.is_set():
                try:
                    self._decoded.put(item, timeout=0.1)
                    break
                except queue.Full:
                    pass
            if self._stopped.is_set():
                return

    def _rebuilt_from_sharper(self, s: int, path: Path, reason: str) -> np.ndarray | None:
        """Base sheet `s` made from the sharper levels' cells (largest first), or None if none can be read."""
        base_cell, base_px = int(self.levels[0]["cell_px"]), int(self.levels[0]["sheet_px"])
        for level in reversed(self.levels[1:]):
            try:
                sharp = read_sheet(level["paths"][s], int(level["sheet_px"]))
            except (ValueError, IndexError):
                continue
            damaged(path, reason, f"its images are drawn from the {level['cell_px']} px level")
            pixels = np.zeros((base_px, base_px, 3), np.uint8)
            cell_px = int(level["cell_px"])
            for c in self.cell[self.sheet == s]:
                x, y = cell_origin(int(c), cell_px, int(level["sheet_px"]))
                small = Image.fromarray(sharp[y:y + cell_px, x:x + cell_px]).resize((base_cell, base_cell), Image.BOX)
                bx, by = cell_origin(int(c), base_cell, base_px)
                pixels[by:by + base_cell, bx:bx + base_cell] = np.asarray(small)
            return pixels
        damaged(path, reason, "no atlas level holds its images, which are left out")
        return None

    def load_sheets(self) -> bool:
        """Upload decoded base sheets for a few milliseconds (call once per frame); True once all are in."""
        if self.loaded:
            return True
        budget_s = START_BUDGET_S if self.eager and not any(t is not None for t in self.textures) else UPLOAD_BUDGET_S
        if self._uploading is None:
            try:
                s, levels = self._decoded.get_nowait()
            except queue.Empty:
                return False
            if levels is None:
                self.missing.add(s)
                return self.loaded
            texture = GLTexture(self.sketch, levels[0].shape[1], levels[0].shape[0], len(levels))
            self._uploading = (s, TextureUpload(texture, levels))
        s, upload = self._uploading
        if upload.step(budget_s):
            self.textures[s], self._uploading = upload.texture, None
            if self.loaded:
                for loader in self.loaders:   # a first zoom then finds its sheet decoded
                    loader.preload()
        return self.loaded

    @property
    def loaded(self) -> bool:
        """True once every base sheet is a texture (or known to be missing)."""
        return all(t is not None or s in self.missing for s, t in enumerate(self.textures))

    @property
    def base_cell_px(self) -> int:
        return int(self.levels[0]["cell_px"])

    def uv(self, level: int = 0) -> np.ndarray:
        """(N, 4) float32 texture rectangles (u0, v0, u1, v1) of every image at `level`, inset half a texel."""
        cell_px, sheet_px = self.levels[level]["cell_px"], self.levels[level]["sheet_px"]
        x, y = cell_origin(self.cell, cell_px, sheet_px)
        return (np.stack([x + 0.5, y + 0.5, x + cell_px - 0.5, y + cell_px - 0.5], axis=1) / sheet_px).astype(np.float32)

    def dispose(self) -> None:
        """Stop the background readers and free the textures."""
        self._stopped.set()
        for loader in [*self.loaders, *self.hover_loaders]:
            loader.stop()
        if self._uploading is not None:
            self._uploading[1].texture.delete()
            self._uploading = None
        for texture in self.textures:
            if texture is not None:
                texture.delete()
        self.textures = [None] * len(self.textures)


class CellLoader:
    """Reads cells of one atlas level on a daemon thread (PIL decodes without the GIL).

    request() names the images wanted now; get() returns a cell once read, as its mip levels (RGBA,
    mip_levels). Cells are handed over in chunks of CHUNK as their mip levels are made, so drawing can
    start before a whole sheet's cells are ready. At most `capacity` cells are kept (least recently
    requested dropped first). Decoded sheets are kept up to `keep_bytes` (least recently read dropped
    first), so the next request into one (a pan, a zoom) costs no second decode (an 8192 px sheet takes
    0.5-2 s to decode here). `preload()` works ahead of any request while none is waiting: when every
    image's cell fits in `capacity` it makes them all, a chunk at a time (then no sheet needs keeping:
    1,000 cells of 128 px are 87 MB, their 8192 px sheet 192 MiB); else, when the sheets fit in
    `keep_bytes`, it decodes and keeps them. A sheet that cannot be decoded is logged once (unless
    `quiet`) and its images are `unavailable`.
    """

    CHUNK = 64

    def __init__(self, level: dict, sheet: np.ndarray, cell: np.ndarray, capacity: int = 2048,
                 quiet: bool = False, keep_bytes: int = 0, kept: SheetCache | None = None) -> None:
        self.cell_px, self.sheet_px, self.paths = int(level["cell_px"]), int(level["sheet_px"]), level["paths"]
        self.sheet, self.cell, self.capacity, self.quiet = sheet, cell, capacity, quiet
        self.keep_bytes = keep_bytes
        self.kept = SheetCache(keep_bytes) if kept is None else kept   # decoded sheets, shared with other loaders
        self._preload_sheets: list[int] = []     # sheets to decode and keep while no cell is wanted
        self._preload_cells: list[int] = []      # images whose cells to make while no cell is wanted
        self._open: tuple[int, np.ndarray] | None = None   # the sheet the cell preload is working through
        self._trim_due = False                   # a sheet was let go: give its memory back once idle
        self.cells: OrderedDict[int, list[np.ndarray]] = OrderedDict()
        self.wanted: list[int] = []
        self.failed: dict[int, str] = {}          # sheet → why it cannot be decoded
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def request(self, indices) -> None:
        """Ask for these images' cells (replaces the previous request)."""
        with self._wake:
            self.wanted = [int(i) for i in indices]
            for i in self.wanted:
                if i in self.cells:
                    self.cells.move_to_end(i)
            self._start()

    def preload(self) -> None:
        """Make every image's cell ahead of requests if they all fit in `capacity`, else decode and keep every
        sheet if they fit in `keep_bytes`; otherwise nothing."""
        with self._wake:
            if len(self.sheet) <= self.capacity:
                self._preload_cells = sorted(range(len(self.sheet)), key=lambda i: int(self.sheet[i]))
            elif len(self.paths) * self.sheet_px ** 2 * 3 <= self.keep_bytes:
                self._preload_sheets = list(range(len(self.paths)))
            self._start()

    def _start(self) -> None:
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(target=self._run, name=f"atlas-{self.cell_px}", daemon=True)
            self._thread.start()
        self._wake.notify()

    def get(self, index: int) -> list[np.ndarray] | None:
        """The cell of images[index] (mip levels, RGBA) if it has been read."""
        return self.cells.get(int(index))

    def unavailable(self, index: int) -> bool:
        """True when images[index]'s sheet of this level cannot be decoded."""
        return int(self.sheet[index]) in self.failed

    def stop(self) -> None:
        """Let the thread end after its current read and drop the cells read so far."""
        with self._wake:
            self._stopped = True
            self.cells.clear()
            self.kept.clear()
            self._open = None
            self._wake.notify()

    def _missing(self) -> list[int]:
        return [i for i in self.wanted if i not in self.cells and int(self.sheet[i]) not in self.failed]

    def _next_work(self) -> tuple[int, list[int], bool] | None:
        """(sheet, images to make cells of, whether it is a preload) or None when idle (call holding _wake).
        A request comes first; a cell preload gives one CHUNK at a time, so a request waits for one at most."""
        missing = self._missing()
        if missing:
            sheet = int(self.sheet[missing[0]])
            return sheet, [i for i in missing if self.sheet[i] == sheet], False
        self._preload_cells = [i for i in self._preload_cells
                               if i not in self.cells and int(self.sheet[i]) not in self.failed]
        if self._preload_cells:
            sheet = int(self.sheet[self._preload_cells[0]])
            return sheet, [i for i in self._preload_cells if self.sheet[i] == sheet][:self.CHUNK], True
        if self._open is not None:
            self._open, self._trim_due = None, True
        while self._preload_sheets:
            sheet = self._preload_sheets.pop(0)
            if self.kept.get(sheet) is None and sheet not in self.failed:
                return sheet, [], True
        return None

    def _run(self) -> None:
        levels = level_count(self.cell_px)
        while True:
            with self._wake:
                while not self._stopped and (work := self._next_work()) is None:
                    if self._trim_due:
                        self._trim_due = False
                        release_free_memory()   # the decode buffers of the sheet the preload is done with
                    self._wake.wait()
                if self._stopped:
                    return
                sheet, todo, preloading = work
                pixels = self.kept.get(sheet)
                if pixels is None and self._open is not None and self._open[0] == sheet:
                    pixels = self._open[1]
            try:
                if pixels is None:
                    pixels = read_sheet(self.paths[sheet], self.sheet_px)
            except ValueError as exc:
                if not self.quiet:
                    damaged(self.paths[sheet], str(exc), "its images stay at the smaller level")
                with self._wake:
                    self.failed[sheet] = str(exc)
                continue
            with self._wake:
                if self._stopped:
                    return
                if self._preload_cells:   # all cells are being made: the sheet is needed only until then
                    self._open = (sheet, pixels)
                else:
                    self.kept.put(sheet, pixels)
            for start in range(0, len(todo), self.CHUNK):
                chunk = todo[start:start + self.CHUNK]
                origins = [cell_origin(int(self.cell[i]), self.cell_px, self.sheet_px) for i in chunk]
                stacked = mip_levels(np.stack([pixels[y:y + self.cell_px, x:x + self.cell_px] for x, y in origins]),
                                     levels)
                with self._wake:
                    if self._stopped:
                        break
                    self.cells.update((i, [level[k] for level in stacked]) for k, i in enumerate(chunk))
                    while len(self.cells) > self.capacity:
                        self.cells.popitem(last=False)
            with self._wake:
                unkept = self.kept.get(sheet) is None and (self._open is None or self._open[0] != sheet)
            del pixels
            if unkept:
                release_free_memory()   # the decode buffers of a sheet not kept


class SheetCache:
    """Decoded atlas sheets kept up to `max_bytes` (least recently stored dropped first); thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._sheets: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sheet: int) -> np.ndarray | None:
        with self._lock:
            return self._sheets.get(sheet)

    def put(self, sheet: int, pixels: np.ndarray) -> None:
        with self._lock:
            self._sheets.pop(sheet, None)
            if pixels.nbytes > self.max_bytes:
                return
            self._sheets[sheet] = pixels
            while sum(p.nbytes for p in self._sheets.values()) > self.max_bytes:
                self._sheets.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._sheets.clear()

    def __len__(self) -> int:
        return len(self._sheets)
