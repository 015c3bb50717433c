"""The main job: a folder of images → the recipe's layouts → layout JSON + atlases.

`run_build` runs the steps in order, each a call into the module that does it: plan (check the
options, resolve the recipe) → lock the output (embed/build/lock.py) → tidy up after killed runs (embed/build/sweep.py)
→ scan → up-to-date check (embed/build/fingerprint.py) → extract → layouts (the in-memory core, embed/core/layouts.py,
continuing the saved map of embed/build/positions.py) → atlases → write → remove the sheets no layout names. A layout is one unit: its
sheets are written under new, content-named files first and the JSON replaces the old one last, so a
reader sees the whole old layout or the whole new one, whatever stops the build. It prints nothing itself
beyond progress bars (and a line when it waits for another build); embed/build/summary.py turns what it
returns into the closing lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from embed import __version__
from embed.build.atlas_reuse import continued_slots
from embed.build.document import image_entries, layout_params, skipped_entries
from embed.build.extract import Extracted, extract
from embed.core.featureset import FeatureSet
from embed.build.fingerprint import inputs_fingerprint, layout_is_current, options_fingerprint
from embed.build.labels import folder_labels
from embed.core.layouts import Layout, LayoutSet, lay_out
from embed.build.lock import build_lock
from embed.network.models import check_weights
from embed.options import BuildOptions, BuildPlan
from embed.build.positions import KeptMap, SavedPositions
from embed.core.recipe import Recipe, default_recipe, dial, load_recipe
from embed.build.scan import scan_folder
from embed.image.file import ImageRecord
from embed.build.summary import BuildSummary
from embed.build.sweep import atlas_folder, named_sheets, remove_stale_temps, remove_unreferenced_sheets, layout_on_disk
from embed.build.thumbs import CELLS_PER_SIDE, MAX_ATLAS_CELL, atlas_order, write_atlases
from layoutfile import UserError, build_layout, write_layout


@dataclass
class StageTimer:
    """Wall-clock seconds per named stage, in the order run."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def default_output(images: Path) -> Path:
    """out/<folder name>.json in the current directory."""
    return Path("out") / f"{images.resolve().name or 'layout'}.json"


def plan_build(options: BuildOptions) -> BuildPlan:
    """Resolve paths and check the options that can be checked before any work; UserError if one is wrong."""
    output = (options.output or default_output(options.images)).resolve()
    if output.suffix.lower() != ".json":
        raise UserError(f"{output}: the output must be a .json file")
    if not all(1 <= cell <= MAX_ATLAS_CELL for cell in options.atlas_cells):
        raise UserError(f"atlas cell sizes must be 1 to {MAX_ATLAS_CELL} px, not {list(options.atlas_cells)}")
    weights_tag = (check_weights(options.model, options.weights, seed=options.seed) if options.features == "cnn"
                   else "none")
    return BuildPlan(source=options.images.resolve(), output=output,
                     cache_dir=(options.cache or output.parent / ".cache").resolve(), weights_tag=weights_tag,
                     recipe=build_recipe(options))


def build_recipe(options: BuildOptions) -> Recipe:
    """The layouts a build makes: `--recipe` (a file or preset) or the default one (blur and combined at the
    `--blur` levels); with `--stops N`, a dial of N layouts between its first and last."""
    recipe = load_recipe(options.recipe) if options.recipe is not None else default_recipe(tuple(options.blur))
    return recipe if options.stops is None else dial(options.stops, recipe)


def feature_set(extracted: Extracted, kind: str) -> FeatureSet:
    """The in-memory core's input from what extract found or made (memory-mapped: nothing is copied); labels
    from the images' sub-folders; `kind` the network feature kind (embed.options.FEATURE_KINDS)."""
    return FeatureSet(extracted.network, extracted.colour_blocks, extracted.colours,
                      folder_labels([r.rel for r in extracted.records]), kind)


def scan_exclusions(plan: BuildPlan) -> tuple[Path, ...]:
    """Folders of the build's own output that the scan must not read as images: the output's folder when it
    lies inside the images folder (or, when it is the images folder itself, the atlas folder), and the cache."""
    output_folder = plan.output.parent
    inside = output_folder != plan.source and output_folder.is_relative_to(plan.source)
    return (output_folder if inside else atlas_folder(plan.output), plan.cache_dir)


def run_build(options: BuildOptions) -> BuildSummary:
    """Run every step for `options`: write the layout JSON, its atlases and the saved map; return a summary.

    One build per output at a time: a second one waits for the first (or, with `options.no_wait`, raises
    embed.build.lock.BuildBusy).
    """
    plan = plan_build(options)
    with build_lock(plan.output, wait=not options.no_wait):
        return _build(options, plan)


def _build(options: BuildOptions, plan: BuildPlan) -> BuildSummary:
    """run_build's steps, under the output's lock."""
    timer = StageTimer()
    previous, current = layout_on_disk(plan.output)   # current: the sheets it names (None: unreadable, keep all)
    remove_stale_temps(plan.output, plan.cache_dir)
    if current is not None:
        remove_unreferenced_sheets(plan.output, current)   # e.g. a killed run's new sheets
    with timer.stage("scan"):
        records, unreadable = scan_folder(plan.source, progress=options.progress,
                                          id_cache=plan.cache_dir / "scan.json", exclude=scan_exclusions(plan))
    fingerprint = inputs_fingerprint(records, options, plan.weights_tag, plan.recipe)
    if not options.fresh and layout_is_current(plan.output, fingerprint):
        return BuildSummary.nothing_to_do(plan.output, len(records), timer.seconds)

    with timer.stage("decode+features"):
        extracted = extract(records, plan.cache_dir, options.extract_options(plan.recipe.levels("colour"),
                                                                              plan.recipe.levels("network")))
    skipped = skipped_entries(unreadable, extracted.failed)
    kept = extracted.records
    if not kept:
        raise UserError(f"{plan.source}: no readable images (skipped {len(skipped)})")

    ids = [r.id for r in kept]
    saved = SavedPositions.of_output(plan.cache_dir, plan.output,
                                     options_fingerprint(options, plan.weights_tag, plan.recipe))
    kept_map = None if options.fresh else saved.load(ids, plan.recipe.names)
    layouts = lay_out(feature_set(extracted, options.features), plan.recipe, options.layout_params(), kept=kept_map,
                      stage=timer.stage)
    slots = _atlas_slots(previous, kept_map, ids, next(iter(layouts)), plan, options)

    def save_map() -> None:
        saved.save(ids, {layout.name: layout.map for layout in layouts}, layouts.cols, layouts.rows,
                   layouts.recipe.dial_positions)

    publish(plan.output, kept, extracted.thumbs, layouts, layout_params(options, plan, extracted.weights_tag, fingerprint),
            skipped, options.atlas_cells, current=current, slots=slots, before_write=save_map, timer=timer,
            progress=options.progress)
    return BuildSummary(output=plan.output, images=len(kept), seconds=timer.seconds,
                        computed=extracted.stats.get("computed", len(kept)),
                        cached=extracted.stats.get("cached", 0), skipped=skipped,
                        tsne=("from scratch" if kept_map is None
                              else f"incremental, {int(kept_map.new.sum())} new of {len(kept)}"),
                        metrics={layout.name: layout.metrics for layout in layouts})


def publish(output: Path, images: list[ImageRecord], thumbs, layouts: LayoutSet, params: dict, skipped: list[dict],
            atlas_cells: tuple[int, ...], *, current: set[str] | None, slots: dict,
            before_write: Callable[[], None] = lambda: None, timer: StageTimer | None = None,
            progress: bool = True) -> dict:
    """Write `layouts` of `images` to `output` as one unit (call under embed.build.lock.build_lock(output)): the atlas
    sheets of `thumbs` under new names, then `before_write()`, then the JSON atomically, then the removal of the
    sheets that neither it nor the layout it replaced (whose sheets are `current`; None: keep every sheet)
    names. On any failure the layout on disk stays as it was. Returns the document written."""
    timer = timer or StageTimer()
    try:
        with timer.stage("atlas"):  # grid neighbours share a sheet, so a zoomed-in view reads few sheets
            levels, sheets, cells = write_atlases(thumbs, output.parent, rel_prefix=atlas_folder(output).name,
                                                  cell_sizes=tuple(sorted(atlas_cells)), progress=progress, **slots)
        doc = build_layout(generator_version=__version__, params=params, atlas_levels=levels,
                           images=image_entries(images, sheets, cells), cols=layouts.cols, rows=layouts.rows,
                           layouts={layout.name: layout.contract_entry() for layout in layouts}, skipped=skipped)
        with timer.stage("write"):
            before_write()
            write_layout(output, doc)
    except BaseException:
        if current is not None:   # the layout on disk is unchanged: its sheets stay, this run's go
            remove_unreferenced_sheets(output, current)
        raise
    remove_unreferenced_sheets(output, (current or set()) | named_sheets(doc, output))
    return doc


def _atlas_slots(previous: dict | None, kept_map: KeptMap | None, ids: list[str], first: Layout, plan: BuildPlan,
                 options: BuildOptions) -> dict:
    """write_atlases' slot arguments: an incremental run continues the atlas of the layout file it replaces
    (embed/build/atlas_reuse.py), new images in the first (colour) layout's grid order; otherwise every slot follows
    that grid."""
    order = atlas_order(first.grid)
    if kept_map is not None and previous is not None and previous["params"].get("fit") == options.fit:
        continued = continued_slots(previous, ids, order, plan.output.parent, atlas_folder(plan.output).name,
                                    tuple(sorted(options.atlas_cells)), CELLS_PER_SIDE)
        if continued is not None:
            slots, reuse = continued
            return {"slots": slots, "reuse": reuse}
    return {"order": order}
