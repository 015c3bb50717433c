"""Categories of images for measuring layouts: their sub-folder names, or a table (used by bench/).

Labels are only measured (embed.core.metrics.category_metrics), never used to lay images out.
"""

from __future__ import annotations

import csv
from pathlib import Path, PurePosixPath

from layoutfile import UserError

ROOT_LABEL = "."   # the label of images directly in the scanned folder


def folder_labels(rel_paths: list[str]) -> list[str] | None:
    """Each image's top-level sub-folder (ROOT_LABEL for one directly in the folder), or None unless the images
    sit in at least two sub-folders."""
    labels = [parts[0] if len(parts := PurePosixPath(rel).parts) > 1 else ROOT_LABEL for rel in rel_paths]
    return labels if len(set(labels) - {ROOT_LABEL}) >= 2 else None


def table_labels(path: Path, rel_paths: list[str]) -> list[str]:
    """Labels from a tab-separated file with a header: its first column a path relative to the scanned folder,
    the column named 'category' (else the second) the label. UserError naming an image without one."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter="\t"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read labels ({exc})") from None
    if len(rows) < 2 or len(rows[0]) < 2:
        raise UserError(f"{path}: expected a header and rows of at least two tab-separated columns")
    column = rows[0].index("category") if "category" in rows[0] else 1
    by_path = {row[0]: row[column] for row in rows[1:] if len(row) > column}
    missing = [rel for rel in rel_paths if rel not in by_path]
    if missing:
        raise UserError(f"{path}: no label for {missing[0]} (and {len(missing) - 1} more)")
    return [by_path[rel] for rel in rel_paths]
