"""The parts of a build's layout file that come from embed: params (its options as the contract names
them), image entries and skipped files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from embed.options import BuildOptions, BuildPlan
from embed.build.scan import Skipped
from embed.image.file import ImageRecord
from layoutfile.trust import SIGNATURE_KEY, sign_source


def source_params(source: Path, output: Path) -> dict:
    """`params.source` for a layout file written to `output` (relative to its folder: move both together),
    signed with this user's key, so that this user's readers trust it (layoutfile/trust.py)."""
    relative = Path(os.path.relpath(source, output.parent)).as_posix()
    signature = sign_source(relative)
    return {"source": relative, **({SIGNATURE_KEY: signature} if signature else {})}


def layout_params(options: BuildOptions, plan: BuildPlan, weights_tag: str, fingerprint: str) -> dict:
    """The layout file's `params`: how it was made, in the contract's names and order (source_params first)."""
    return {
        **source_params(plan.source, plan.output),
        "features": options.features, "model": options.model if options.features == "cnn" else None,
        "weights": weights_tag, "recipe": plan.recipe.name, "blur_radii": list(plan.recipe.levels("colour")),
        "perplexity": options.perplexity, "seed": options.seed, "pca_dims": options.pca_dims,
        "grid_method": options.grid, "aspect": round(options.aspect, 6), "fit": options.fit,
        "trim_borders": options.trim_borders, "atlas_cells": sorted(options.atlas_cells), "fingerprint": fingerprint,
    }


def image_entries(records: list[ImageRecord], sheets: np.ndarray, cells: np.ndarray) -> list[dict]:
    """The layout file's `images`: id, path, size and atlas place of each laid-out image."""
    return [{"id": r.id, "path": r.rel, "width": r.width, "height": r.height,
             "atlas_sheet": int(s), "atlas_cell": int(c)} for r, s, c in zip(records, sheets, cells)]


def skipped_entries(unreadable: list[Skipped], failed: list[tuple[str, str]]) -> list[dict]:
    """The layout file's `skipped`: files the scan refused, then images whose decode failed."""
    return ([{"path": s.path, "reason": s.reason} for s in unreadable]
            + [{"path": rel, "reason": reason} for rel, reason in failed])
