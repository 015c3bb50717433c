"""Every index a layout file's images hold into its atlases, checked against what the atlas declares."""

from __future__ import annotations


def atlas_index_problem(levels: list[dict], images: list[dict]) -> str | None:
    """Why the atlas levels or an image's atlas_sheet / atlas_cell break the contract, or None.

    Each level needs positive integer cell_px <= sheet_px and a list of files; every level holds the
    images at the same sheet and cell, so an image's atlas_sheet must name a file of every level and its
    atlas_cell a cell of every level's sheets ((sheet_px // cell_px)² of them).
    """
    sheets, cells = None, None
    for number, level in enumerate(levels):
        cell_px, sheet_px, files = level.get("cell_px"), level.get("sheet_px"), level.get("files")
        if not (_whole(cell_px) and _whole(sheet_px) and 0 < cell_px <= sheet_px):
            return f"atlas.levels[{number}]: cell_px and sheet_px must be whole numbers with 0 < cell_px <= sheet_px"
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            return f"atlas.levels[{number}]: 'files' must be a non-empty list of file names"
        sheets = len(files) if sheets is None else min(sheets, len(files))
        cells = (sheet_px // cell_px) ** 2 if cells is None else min(cells, (sheet_px // cell_px) ** 2)
    for i, image in enumerate(images):
        sheet, cell = image["atlas_sheet"], image["atlas_cell"]
        if not _whole(sheet) or not 0 <= sheet < sheets:
            return f"images[{i}]: atlas_sheet {sheet!r} is not a sheet of every atlas level (0..{sheets - 1})"
        if not _whole(cell) or not 0 <= cell < cells:
            return f"images[{i}]: atlas_cell {cell!r} is not a cell of every atlas level's sheets (0..{cells - 1})"
    return None


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
