"""Atlas sheets as textures, texture coordinates per image, and cells of a sharper level on demand.

Contract (docs/layout-format.md): cell c of a sheet with k = sheet_px // cell_px cells per side sits at
pixel ((c % k) * cell_px, (c // k) * cell_px); every level keeps the same sheet/cell per image.
The smallest level is loaded whole as textures (every image, always): its sheets are decoded on a
background thread and turned into textures a few per frame (load_sheets), so that no frame, setup()
included, takes long whatever the number of images (JOGL gives up on a frame that holds its lock for
5 s). Sharper levels are read cell by cell on a background thread (CellLoader) for the few images on
screen when zoomed in, and for hover.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image

from layoutfile import UserError, atlas_paths, cell_origin, open_regular


class Atlas:
    """All atlas levels of a layout document; the smallest one as py5 textures."""

    def __init__(self, sketch, doc: dict, layout_path: str | Path) -> None:
        files = atlas_paths(doc, layout_path)
        levels = doc["atlas"]["levels"]
        order = sorted(range(len(levels)), key=lambda i: levels[i]["cell_px"])
        self.levels = [dict(levels[i], paths=files[i]) for i in order]   # smallest cell first
        self.sheet = np.array([int(im["atlas_sheet"]) for im in doc["images"]], np.int64)
        self.cell = np.array([int(im["atlas_cell"]) for im in doc["images"]], np.int64)
        self.textures: list = [None] * len(self.levels[0]["paths"])   # Py5Image per base sheet, once loaded
        self._decoded: queue.Queue = queue.Queue(maxsize=3)
        self._stopped = threading.Event()
        threading.Thread(target=self._decode_sheets, name="atlas-sheets", daemon=True).start()
        self.loaders = [CellLoader(level, self.sheet, self.cell) for level in self.levels[1:]]
        self.hover_loader = CellLoader(self.levels[-1], self.sheet, self.cell, capacity=64)

    def _decode_sheets(self) -> None:
        for s, path in enumerate(self.levels[0]["paths"]):
            try:
                with open_regular(path) as file, Image.open(file) as img:   # never blocks on a FIFO
                    item = (s, np.asarray(img.convert("RGB")))
            except OSError as exc:
                item = (s, UserError(f"{path}: atlas sheet cannot be decoded ({exc}); re-run `python -m embed`"))
            while not self._stopped.is_set():
                try:
                    self._decoded.put(item, timeout=0.1)
                    break
                except queue.Full:
                    pass

    def load_sheets(self, sketch, budget_s: float = 0.25) -> bool:
        """Turn decoded base sheets into textures (at least one if ready, then until budget_s is spent).

        Call once per frame; returns True when every base sheet is loaded. Raises UserError for a
        sheet that cannot be decoded.
        """
        started = time.perf_counter()
        while not self.loaded and time.perf_counter() - started < budget_s:
            try:
                s, pixels = self._decoded.get(timeout=0.002)
            except queue.Empty:
                break
            if isinstance(pixels, UserError):
                raise pixels
            self.textures[s] = sketch.create_image_from_numpy(pixels, "RGB")
        return self.loaded

    @property
    def loaded(self) -> bool:
        """True once every base sheet is a texture."""
        return all(texture is not None for texture in self.textures)

    @property
    def base_cell_px(self) -> int:
        return int(self.levels[0]["cell_px"])

    def uv(self, level: int = 0) -> np.ndarray:
        """(N, 4) float32 texture rectangles (u0, v0, u1, v1) of every image at `level`, inset half a texel."""
        cell_px, sheet_px = self.levels[level]["cell_px"], self.levels[level]["sheet_px"]
        x, y = cell_origin(self.cell, cell_px, sheet_px)
        return (np.stack([x + 0.5, y + 0.5, x + cell_px - 0.5, y + cell_px - 0.5], axis=1) / sheet_px).astype(np.float32)

    def base_cell_image(self, sketch, index: int):
        """images[index]'s cell of the smallest level as a Py5Image (None while its sheet is loading)."""
        cell_px = self.base_cell_px
        x, y = cell_origin(self.cell[index], cell_px, self.levels[0]["sheet_px"])
        texture = self.textures[self.sheet[index]]
        return None if texture is None else texture.get_pixels(int(x), int(y), cell_px, cell_px)

    def dispose(self) -> None:
        """Stop the background readers."""
        self._stopped.set()
        for loader in self.loaders + [self.hover_loader]:
            loader.stop()


class CellLoader:
    """Reads cells of one atlas level on a daemon thread (PIL decodes without the GIL).

    request() names the images wanted now; get() returns a cell (cell_px, cell_px, 3) uint8 once read.
    At most `capacity` cells are kept (least recently requested dropped first).
    """

    def __init__(self, level: dict, sheet: np.ndarray, cell: np.ndarray, capacity: int = 4096) -> None:
        self.cell_px, self.sheet_px, self.paths = int(level["cell_px"]), int(level["sheet_px"]), level["paths"]
        self.sheet, self.cell, self.capacity = sheet, cell, capacity
        self.cells: OrderedDict[int, np.ndarray] = OrderedDict()
        self.wanted: list[int] = []
        self.failed: str | None = None
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
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"atlas-{self.cell_px}", daemon=True)
                self._thread.start()
            self._wake.notify()

    def get(self, index: int) -> np.ndarray | None:
        """The cell of images[index] if it has been read."""
        return self.cells.get(int(index))

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def _missing(self) -> list[int]:
        return [i for i in self.wanted if i not in self.cells]

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and not self._missing():
                    self._wake.wait()
                if self._stopped:
                    return
                missing = self._missing()
            sheet = int(self.sheet[missing[0]])
            try:
                with open_regular(self.paths[sheet]) as file, Image.open(file) as img:
                    pixels = np.asarray(img.convert("RGB"))
            except OSError as exc:
                self.failed = f"{self.paths[sheet]}: {exc}"
                pixels = np.zeros((self.sheet_px, self.sheet_px, 3), np.uint8)
            with self._wake:
                for i in self._missing():
                    if self.sheet[i] == sheet:
                        x, y = cell_origin(int(self.cell[i]), self.cell_px, self.sheet_px)
                        self.cells[i] = pixels[y:y + self.cell_px, x:x + self.cell_px].copy()
                while len(self.cells) > self.capacity:
                    self.cells.popitem(last=False)
