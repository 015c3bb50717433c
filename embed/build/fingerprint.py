"""Fingerprints of what a layout is made from, so that a re-run can tell whether it has anything to do."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from embed import __version__
from embed.options import COLOUR_BLOCKS, BuildOptions
from embed.core.recipe import Recipe
from embed.image.file import ImageRecord
from layoutfile import LayoutFileError, check_sheets, read_layout


def stable_hash(value: object) -> str:
    """A short hex digest of a JSON-able value, the same in every run and on every machine."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _layout_inputs(options: BuildOptions, weights_tag: str, recipe: Recipe) -> list:
    """Every option a layout depends on, the network weights' tag, the recipe (its content, not its file name),
    how colour blocks are made and the program version (a new version may lay out or pack the atlas
    differently, so its first run is never taken as up to date)."""
    return [options.layout_options(), weights_tag, recipe.describe(), dataclasses.asdict(COLOUR_BLOCKS), __version__]


def options_fingerprint(options: BuildOptions, weights_tag: str, recipe: Recipe) -> str:
    """Hash of every layout option (not the images): saved t-SNE positions are reused only under the same one."""
    return stable_hash(_layout_inputs(options, weights_tag, recipe))


def inputs_fingerprint(records: list[ImageRecord], options: BuildOptions, weights_tag: str, recipe: Recipe) -> str:
    """Hash of everything a layout depends on: the images (ids, paths, order), every layout option and the recipe."""
    return stable_hash([*_layout_inputs(options, weights_tag, recipe), [(r.id, r.rel) for r in records]])


def layout_is_current(output: Path, fingerprint: str) -> bool:
    """True when `output` is a valid layout made from the same inputs whose atlas sheets are all there and
    are, byte for byte, the files that layout names (size and digest); a layout without recorded digests
    (contract v1) is never current."""
    try:
        doc = read_layout(output)
        if doc["params"].get("fingerprint") != fingerprint:
            return False
        if not all("bytes" in level and "blake2b" in level for level in doc["atlas"]["levels"]):
            return False
        check_sheets(doc, output, digests=True)
    except LayoutFileError:
        return False
    return True
