"""Remove what no layout needs: atlas sheets no layout file names, and temporary files of killed runs.

A build's sheets live in `<OUT stem>_atlas/<cell px>/` beside the JSON. After a new JSON is in place,
the sheets it names and those of the JSON it replaced are kept (a running gallery shows the old layout
until it has reloaded the new one); every other sheet file there goes. Only files named like sheets
are touched, so nothing else a user keeps in that folder is removed.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from layoutfile import LayoutFileError, atlas_paths, read_layout, remove_stale_temp_files

_SHEET_NAME = re.compile(r"\d{3,}(-[0-9a-f]{16})?\.jpg")   # this version's names, and version 1's (000.jpg)


def atlas_folder(output: Path) -> Path:
    """The folder of `output`'s atlas sheets."""
    return output.parent / f"{output.stem}_atlas"


def named_sheets(doc: dict, output: Path) -> set[str]:
    """The sheet files (normalised absolute paths) that layout `doc`, written to `output`, names."""
    return {os.path.normpath(path) for level in atlas_paths(doc, output) for path in level}


def layout_on_disk(output: Path) -> tuple[dict | None, set[str] | None]:
    """The layout JSON at `output` (None when there is none or it cannot be read) and the sheet files it
    names: an empty set when there is no file, None when a file is there but cannot be read as a layout
    (its sheets are then unknown)."""
    if not os.path.lexists(output):
        return None, set()
    try:
        doc = read_layout(output)
    except LayoutFileError:
        return None, None
    return doc, named_sheets(doc, output)


def remove_unreferenced_sheets(output: Path, keep: set[str]) -> int:
    """Remove every sheet file in `output`'s atlas folder that is not in `keep`, and the level folders left
    empty; return how many files went. Best effort: what cannot be removed stays."""
    folder = atlas_folder(output)
    removed = 0
    with contextlib.suppress(OSError), os.scandir(folder) as levels:
        for level in levels:
            if not (level.name.isdigit() and level.is_dir(follow_symlinks=False)):
                continue
            with os.scandir(level.path) as entries:
                names = list(entries)
            for entry in names:
                if (_SHEET_NAME.fullmatch(entry.name) and os.path.normpath(entry.path) not in keep
                        and entry.is_file(follow_symlinks=False)):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                        removed += 1
            with contextlib.suppress(OSError):
                os.rmdir(level.path)   # only when empty
    with contextlib.suppress(OSError):
        os.rmdir(folder)
    return removed


def remove_stale_temps(output: Path, cache_dir: Path) -> int:
    """Remove temporary files that killed runs left beside `output`, in its atlas folder and in the cache."""
    return (remove_stale_temp_files(output.parent) + remove_stale_temp_files(atlas_folder(output), depth=1)
            + remove_stale_temp_files(cache_dir, depth=2))
