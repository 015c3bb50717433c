"""Paths a layout file names, confined to their folders: image paths below the images root
(`params.source`), atlas sheet paths below the layout file's folder.

A confined path is relative and plain: '/'-separated parts, none empty, '.' or '..', no NUL. It is
checked as text (the validator rejects a file holding any other), then joined to its root; symlinks
inside the root are followed, as the scan that found the images follows them.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_PATH_CHARS = 4096   # Linux's PATH_MAX


def path_problem(rel: object) -> str | None:
    """Why `rel` is not a confined relative path (a short reason), or None if it is one."""
    if not isinstance(rel, str) or not rel:
        return "is not a non-empty string"
    if len(rel) > MAX_PATH_CHARS:
        return f"is longer than {MAX_PATH_CHARS} characters"
    if "\x00" in rel:
        return "holds a NUL character"
    if rel.startswith("/"):
        return "is absolute; it must be relative to its folder"
    if any(part in ("", ".", "..") for part in rel.split("/")):
        return "leaves its folder or is not plain (a '..', '.' or empty part)"
    return None


def confined(root: str | os.PathLike, rel: str) -> Path:
    """`root / rel`, or ValueError when `rel` is not a confined relative path."""
    problem = path_problem(rel)
    if problem:
        raise ValueError(f"path {rel!r} {problem}")
    return Path(root) / rel


def image_path(doc: dict, index: int, source: str | os.PathLike | None = None) -> Path:
    """The original file of images[index] of a validated document, below `source` (default: params.source)."""
    root = source if source is not None else doc["params"].get("source") or "."
    return confined(root, doc["images"][index]["path"])


def atlas_paths(doc: dict, layout_path: str | os.PathLike) -> list[list[Path]]:
    """Absolute sheet paths per atlas level (in the document's level order) of a validated document."""
    folder = Path(layout_path).resolve().parent
    return [[confined(folder, rel) for rel in level["files"]] for level in doc["atlas"]["levels"]]
