"""Check a decoded layout document against the contract (versions 1 to 3, docs/layout-format.md).

Every field's type and range is checked, paths are confined to their folders (layoutfile/paths.py) and
sizes are bounded, so a broken or hostile file is one error line naming the file and the first problem,
never a traceback, a hang or a read outside the layout's folders further on.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any, NoReturn

import numpy as np

from layoutfile.errors import LayoutFileError
from layoutfile.names import FORMAT, LAYOUTS, NAME_PATTERN, VERSION
from layoutfile.paths import MAX_PATH_CHARS, path_problem
from layoutfile.sheets import DIGEST_BYTES

MAX_IMAGES = 1_000_000       # images in one layout
MAX_LEVELS = 8               # atlas levels of detail
MAX_CELL_PX = 1024           # side of an atlas cell
MAX_SHEET_PX = 16384         # side of an atlas sheet (the largest texture GPUs commonly take)
SPARE_GRID_CELLS = 64        # a grid holds at most 2 × images + this many cells
MAX_LAYOUTS = 16
MAX_TEXT = 4096              # characters of an id, label, skipped path or reason, or a string in params/metrics
MAX_FREE_DEPTH = 8           # nesting of the free-form fields (params, metrics, generator)
MAX_FREE_NODES = 100_000     # values in one free-form field
TSNE_SLACK = 1e-6            # coordinates may stray this far outside [0, 1] (rounding)
_DIGEST = re.compile(f"[0-9a-f]{{{2 * DIGEST_BYTES}}}")
_NAME = re.compile(NAME_PATTERN)
ORDER_KEY = "layout_order"   # version 3: the layouts' names in order


def validate_layout(doc: Any, source: str = "layout") -> None:
    """Check a document against the contract; raise LayoutFileError naming `source` and the first problem."""
    _Checker(source).document(doc)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plain_path(rel: Any) -> bool:
    """A quick test that passes most confined paths (no '/.', '//', NUL, leading or trailing '/'); a path
    it fails gets the exact check (paths.path_problem)."""
    return (type(rel) is str and 0 < len(rel) <= MAX_PATH_CHARS and rel[0] != "/" and rel[-1] != "/"
            and rel[0] != "." and "/." not in rel and "//" not in rel and "\x00" not in rel)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60


def _short(value: Any) -> str:
    """A value for an error message: its repr, cut short however large it is."""
    return _SHORT.repr(value)


class _Checker:
    """The checks, each failing with one line that names the file (`source`) and the field."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, reason: str) -> NoReturn:
        raise LayoutFileError(f"{self.source}: {reason}")

    def document(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            self.fail("not a layout file (top level is not a JSON object)")
        if doc.get("format") != FORMAT:
            self.fail(f"not a tsne-gallery layout (format is {_short(doc.get('format'))}, expected {FORMAT!r})")
        version = doc.get("version")
        if not _is_int(version) or version < 1:
            self.fail("missing or non-integer 'version' (1 or more)")
        if version > VERSION:
            self.fail(f"layout version {version} is newer than this program reads ({VERSION}); update tsne-gallery")
        for key in ("params", "atlas", "images", "grid", "layouts", "skipped"):
            if key not in doc:
                self.fail(f"missing '{key}'")
        if "created" in doc:
            self.text_at("created", doc["created"])
        if "generator" in doc:
            self.free("generator", self.object_at("generator", doc["generator"]))
        self.params(doc["params"])
        per_sheet, n_sheets = self.atlas(doc["atlas"])
        n = self.images(doc["images"], n_sheets, per_sheet)
        if n == 0:
            self.fail("the layout holds no images, so there is nothing to show; lay out a folder of images with "
                      "`python -m embed IMAGES -o LAYOUT.json`")
        if n_sheets > max(1, n):
            self.fail(f"'atlas' names {n_sheets} sheets per level, more than its {n} images")
        cols, rows = self.grid(doc["grid"], n)
        self.layouts(doc["layouts"], n, cols, rows)
        if version >= 3:
            self.order(doc.get(ORDER_KEY), doc["layouts"])
        else:   # versions 1 and 2 hold exactly the two original layouts
            for name in LAYOUTS:
                if name not in doc["layouts"]:
                    self.fail(f"layout '{name}' is missing or lacks tsne/grid")
        self.skipped(doc["skipped"])

    def object_at(self, where: str, value: Any) -> dict:
        if not isinstance(value, dict):
            self.fail(f"'{where}' is not an object")
        return value

    def list_at(self, where: str, value: Any, most: int) -> list:
        if not isinstance(value, list):
            self.fail(f"'{where}' is not a list")
        if len(value) > most:
            self.fail(f"'{where}' has {len(value)} entries, more than {most}")
        return value

    def int_at(self, where: str, value: Any, low: int, high: int) -> int:
        if not _is_int(value) or not low <= value <= high:
            self.fail(f"'{where}' must be a whole number from {low} to {high}, not {_short(value)}")
        return value

    def text_at(self, where: str, value: Any) -> str:
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            self.fail(f"'{where}' must be a string of at most {MAX_TEXT} characters")
        return value

    def path_at(self, where: str, value: Any, folder: str) -> None:
        problem = path_problem(value)
        if problem:
            self.fail(f"'{where}' {problem} (paths must stay inside {folder})")

    def free(self, where: str, value: Any) -> None:
        """A free-form value (params, metrics, generator): plain JSON of bounded depth, size and string length."""
        budget = [MAX_FREE_NODES]

        def walk(item: Any, depth: int) -> None:
            budget[0] -= 1
            if budget[0] < 0:
                self.fail(f"'{where}' holds more than {MAX_FREE_NODES} values")
            if depth > MAX_FREE_DEPTH:
                self.fail(f"'{where}' is nested more than {MAX_FREE_DEPTH} levels deep")
            if isinstance(item, str):
                self.text_at(where, item)
            elif isinstance(item, list):
                for element in item:
                    walk(element, depth + 1)
            elif isinstance(item, dict):
                for key, element in item.items():
                    self.text_at(where, key)
                    walk(element, depth + 1)
            elif not (item is None or isinstance(item, (bool, int, float))):
                self.fail(f"'{where}' holds a {type(item).__name__}, not a JSON value")

        walk(value, 0)

    def params(self, params: Any) -> None:
        self.free("params", self.object_at("params", params))
        source = params.get("source")
        if source is not None and (not isinstance(source, str) or not source or "\x00" in source
                                   or len(source) > MAX_PATH_CHARS):
            self.fail("'params.source' must be a folder path (a non-empty string without NUL)")

    def atlas(self, atlas: Any) -> tuple[int, int]:
        """(cells per sheet of the level with the fewest, sheets per level) of a checked 'atlas'."""
        levels = self.list_at("atlas.levels", self.object_at("atlas", atlas).get("levels"), MAX_LEVELS)
        if not levels:
            self.fail("'atlas.levels' is empty")
        per_sheet, n_sheets = [], set()
        for j, level in enumerate(levels):
            where = f"atlas.levels[{j}]"
            level = self.object_at(where, level)
            missing = {"cell_px", "sheet_px", "files"} - level.keys()
            if missing:
                self.fail(f"'{where}' lacks {', '.join(sorted(missing))}")
            cell = self.int_at(f"{where}.cell_px", level["cell_px"], 1, MAX_CELL_PX)
            sheet = self.int_at(f"{where}.sheet_px", level["sheet_px"], cell, MAX_SHEET_PX)
            if sheet % cell:
                self.fail(f"'{where}.sheet_px' ({sheet}) is not a whole number of {cell} px cells")
            files = self.list_at(f"{where}.files", level["files"], MAX_IMAGES)
            for i, rel in enumerate(files):
                self.path_at(f"{where}.files[{i}]", rel, "the layout file's folder")
            if "bytes" in level:
                sizes = self.list_at(f"{where}.bytes", level["bytes"], len(files))
                if len(sizes) != len(files) or not all(_is_int(size) and size >= 0 for size in sizes):
                    self.fail(f"'{where}.bytes' must hold one size in bytes (a whole number >= 0) per file")
            if "blake2b" in level:
                digests = self.list_at(f"{where}.blake2b", level["blake2b"], len(files))
                if len(digests) != len(files) or not all(isinstance(d, str) and _DIGEST.fullmatch(d)
                                                         for d in digests):
                    self.fail(f"'{where}.blake2b' must hold one {2 * DIGEST_BYTES}-hex-digit digest per file")
            per_sheet.append((sheet // cell) ** 2)
            n_sheets.add(len(files))
        if len(n_sheets) != 1:
            self.fail("atlas levels differ in their number of sheets (every level holds the images in the same "
                      "sheet/cell order)")
        if not min(n_sheets):
            self.fail("'atlas.levels[0].files' is empty")
        return min(per_sheet), n_sheets.pop()

    def images(self, images: Any, n_sheets: int, per_sheet: int) -> int:
        """Check every image entry, field by field over all entries (fast for 100k); return their number."""
        images = self.list_at("images", images, MAX_IMAGES)
        required = {"id", "path", "atlas_sheet", "atlas_cell"}
        self.each("images[{}] lacks id, path, atlas_sheet or atlas_cell", images,
                  lambda image: isinstance(image, dict) and required <= image.keys())
        self.each(f"'images[{{}}].id' must be a string of at most {MAX_TEXT} characters", [im["id"] for im in images],
                  lambda value: type(value) is str and len(value) <= MAX_TEXT)
        paths = [image["path"] for image in images]
        if not all(map(_plain_path, paths)):
            for i, rel in enumerate(paths):
                self.path_at(f"images[{i}].path", rel, "the images folder")
        for key, low, high, optional in (("atlas_sheet", 0, n_sheets - 1, False), ("atlas_cell", 0, per_sheet - 1, False),
                                         ("width", 1, 2**31 - 1, True), ("height", 1, 2**31 - 1, True)):
            self.each(f"'images[{{}}].{key}' must be a whole number from {low} to {high}",
                      [image.get(key) for image in images],
                      lambda value: (type(value) is int and low <= value <= high) or (optional and value is None))
        return len(images)

    def each(self, message: str, values: list, ok) -> None:
        """Fail with `message` (formatted with the first bad index) unless `ok(value)` holds for every value."""
        if not all(map(ok, values)):
            self.fail(message.format(next(i for i, value in enumerate(values) if not ok(value))))

    def grid(self, grid: Any, n: int) -> tuple[int, int]:
        grid = self.object_at("grid", grid)
        most = 2 * n + SPARE_GRID_CELLS
        cols, rows = grid.get("cols"), grid.get("rows")
        if not (_is_int(cols) and _is_int(rows) and cols > 0 and rows > 0):
            self.fail("'grid' needs positive integer cols and rows")
        if cols * rows < n:
            self.fail(f"grid {cols}x{rows} has fewer cells than the {n} images")
        if cols * rows > most:
            self.fail(f"grid {cols}x{rows} has more than {most} cells (2 per image + {SPARE_GRID_CELLS})")
        return cols, rows

    def layouts(self, layouts: Any, n: int, cols: int, rows: int) -> None:
        layouts = self.object_at("layouts", layouts)
        if len(layouts) > MAX_LAYOUTS:
            self.fail(f"'layouts' has more than {MAX_LAYOUTS} entries")
        if not layouts:
            self.fail("'layouts' is empty")
        for name, layout in layouts.items():
            where = f"layouts.{name}"
            if not isinstance(layout, dict) or not {"tsne", "grid"} <= layout.keys():
                self.fail(f"layout {_short(name)} is missing or lacks tsne/grid")
            if "recipe" in layout:
                self.free(f"{where}.recipe", self.object_at(f"{where}.recipe", layout["recipe"]))
            if "label" in layout:
                self.text_at(f"{where}.label", layout["label"])
            self.free(f"{where}.metrics", self.object_at(f"{where}.metrics", layout.get("metrics", {})))
            self.unit_points(f"layout '{name}': tsne", layout.get("tsne"), n)
            self.cells(f"layout '{name}': grid", layout.get("grid"), n, cols, rows)
            if "tsne_display" in layout:
                self.unit_points(f"layout '{name}': tsne_display", layout["tsne_display"], n)
            if "tsne_image_size" in layout:
                size = layout["tsne_image_size"]
                if not (isinstance(size, (int, float)) and not isinstance(size, bool) and np.isfinite(size)
                        and size > 0):
                    self.fail(f"layout '{name}': tsne_image_size must be a positive number, not {_short(size)}")

    def order(self, order: Any, layouts: dict) -> None:
        """Version 3: `layout_order` names every layout once, each name of the allowed form."""
        order = self.list_at(ORDER_KEY, order, MAX_LAYOUTS)
        if sorted(map(str, order)) != sorted(layouts) or len(set(map(str, order))) != len(order):
            self.fail(f"'{ORDER_KEY}' must name every layout once, not {_short(order)}")
        for name in order:
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                self.fail(f"layout name {_short(name)} must be 1 to 40 of a-z, 0-9, '_' and '-' (starting with a "
                          "letter or digit)")

    def array(self, where: str, value: Any, n: int, kinds: str) -> np.ndarray:
        """`value` as an (n, 2) array of numbers whose numpy kind is in `kinds`."""
        if n == 0 and value == []:
            return np.zeros((0, 2), np.int64)
        try:
            array = np.asarray(value)
        except (TypeError, ValueError, OverflowError):
            array = None
        if array is None or array.dtype.kind not in kinds or array.shape != (n, 2):
            shape = "?" if array is None else array.shape
            self.fail(f"{where}: must be {n} pairs of {'whole numbers' if kinds == 'iu' else 'numbers'} "
                      f"(one per image), got shape {shape}")
        return array

    def unit_points(self, where: str, value: Any, n: int) -> None:
        points = self.array(where, value, n, "iuf").astype(np.float64)
        if n and (not np.isfinite(points).all() or points.min() < -TSNE_SLACK or points.max() > 1 + TSNE_SLACK):
            self.fail(f"{where}: coordinates must be finite and lie in [0, 1]")

    def cells(self, where: str, value: Any, n: int, cols: int, rows: int) -> None:
        grid = self.array(where, value, n, "iu")
        if n and (grid.min() < 0 or grid[:, 0].max() >= cols or grid[:, 1].max() >= rows):
            self.fail(f"{where}: grid cells must be integers inside {cols}x{rows}")
        cells = grid[:, 1].astype(np.int64) * cols + grid[:, 0].astype(np.int64)
        if len(np.unique(cells)) != n:
            self.fail(f"{where}: two images share a grid cell")

    def skipped(self, skipped: Any) -> None:
        for i, item in enumerate(self.list_at("skipped", skipped, 10 * MAX_IMAGES)):
            if not isinstance(item, dict) or not {"path", "reason"} <= item.keys():
                self.fail(f"skipped[{i}] lacks path or reason")
            self.text_at(f"skipped[{i}].path", item["path"])
            self.text_at(f"skipped[{i}].reason", item["reason"])
