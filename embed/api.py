"""The Python API for notebooks: a folder's features (cached), layouts in memory, quick posters, layout files.

    import embed
    photos = embed.extract_features("photos/", recipe=embed.dial(5))   # decoded once, cached in .cache/
    layouts = embed.lay_out(photos.features, embed.dial(5))            # t-SNE → grid per layout, in memory
    layouts["stop-3"].grid, layouts["stop-3"].metrics["colour_ratio"]
    embed.poster(layouts, "blur", photos.thumbs).save("blur.png")      # a PIL image from the thumbnails
    embed.write_layout_file("out/photos.json", photos, layouts)        # JSON + atlases, for the sketches

`lay_out` also takes a plain (N, D) feature matrix of your own. Laying out again with other weights
(`embed.core.recipe.mix`, `embed.parse_recipe`) reuses the features: nothing is decoded and no network runs.
An example: examples/notebook_api.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from embed import __version__
from embed.build.document import skipped_entries, source_params
from embed.build.extract import extract
from embed.core.featureset import FeatureSet
from embed.core.layouts import LayoutSet
from embed.build.lock import build_lock
from embed.options import DEFAULT_MODEL, ExtractOptions
from embed.build.pipeline import feature_set, publish
from embed.core.recipe import Recipe, default_recipe
from embed.build.scan import scan_folder
from embed.image.file import ImageRecord
from embed.build.sweep import layout_on_disk
from embed.build.thumbs import atlas_order
from layoutfile import UserError, tsne_world

__all__ = ["Collection", "extract_features", "poster", "write_layout_file"]


@dataclass
class Collection:
    """A folder's images with their thumbnails and features, as `extract_features` found or made them."""

    folder: Path
    images: list[ImageRecord]     # the laid-out images, in the order of every array
    skipped: list[dict]           # {"path", "reason"} of files that could not be used
    thumbs: np.ndarray            # (N, S, S, 3) uint8 square thumbnails (memory-mapped from the cache)
    features: FeatureSet
    weights_tag: str              # the network weights exactly
    model: str

    def __len__(self) -> int:
        return len(self.images)


def extract_features(folder: str | os.PathLike, recipe: Recipe | None = None, *,
                     cache: str | os.PathLike = ".cache", features: str = "cnn", model: str = DEFAULT_MODEL,
                     weights: str = "default", fit: str = "crop", thumb_size: int = 128, device: str = "auto",
                     progress: bool = True) -> Collection:
    """Scan `folder` and make what `recipe` (default: blur and combined) needs of every image: thumbnails,
    mean colours, colour blocks and network features, each computed once and kept in `cache` (a later call,
    or the command line with `--cache` the same folder, reuses them). Labels are the images' top sub-folders
    when there are two or more. UserError (one line) for a folder without usable images."""
    recipe = recipe or default_recipe()
    cache = Path(cache).resolve()
    records, unreadable = scan_folder(Path(folder), progress=progress, id_cache=cache / "scan.json", exclude=(cache,))
    options = ExtractOptions(kind=features, model=model, weights=weights, blur_radii=recipe.levels("colour"),
                             network_levels=recipe.levels("network"),
                             thumb_size=thumb_size, fit=fit, device=device, progress=progress)
    extracted = extract(records, cache, options)
    if not extracted.records:
        raise UserError(f"{folder}: no readable images")
    return Collection(Path(folder).resolve(), extracted.records, skipped_entries(unreadable, extracted.failed),
                      extracted.thumbs, feature_set(extracted, features), extracted.weights_tag,
                      model if features == "cnn" else "lab")


def poster(layouts: LayoutSet, name: str, thumbs: np.ndarray, *, state: str = "grid", cell_px: int = 32,
           background: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """A quick RGB picture of layout `name` from the thumbnails: every image in its grid cell (`state="grid"`)
    or at its t-SNE display position (`"tsne"`), `cell_px` pixels a cell. For print-size posters from the
    original files, write a layout file and use `python -m embed poster`."""
    layout = layouts[name]
    width, height = layouts.cols * cell_px, layouts.rows * cell_px
    canvas = Image.new("RGB", (width, height), background)
    if state == "grid":
        side, tops = cell_px, layout.grid * cell_px
    elif state == "tsne":
        side = max(1, round(layout.image_size * cell_px))
        centres = tsne_world(layout.display, layouts.cols, layouts.rows) * cell_px
        tops = np.round(centres - side / 2).astype(np.int64)
    else:
        raise ValueError(f"state must be 'grid' or 'tsne', not {state!r}")
    for i, (x, y) in enumerate(tops):
        tile = Image.fromarray(np.asarray(thumbs[i])).resize((side, side), Image.Resampling.LANCZOS)
        canvas.paste(tile, (int(x), int(y)))
    return canvas


def write_layout_file(path: str | os.PathLike, collection: Collection, layouts: LayoutSet, *,
                      atlas_cells: tuple[int, ...] = (32, 128), progress: bool = True) -> Path:
    """Write `layouts` of `collection` as a layout file with its atlases beside it, for the sketches, `embed
    info` and `embed poster`: as one unit (atomically, under the output's lock), as a build does."""
    output = Path(path).resolve()
    if output.suffix.lower() != ".json":
        raise UserError(f"{output}: the output must be a .json file")
    params = {**source_params(collection.folder, output), "model": collection.model, "weights": collection.weights_tag, "recipe": layouts.recipe.name,
              "written_by": f"embed.api {__version__}"}
    with build_lock(output):
        _, current = layout_on_disk(output)
        publish(output, collection.images, collection.thumbs, layouts, params, collection.skipped, atlas_cells,
                current=current, slots={"order": atlas_order(next(iter(layouts)).grid)}, progress=progress)
    return output
