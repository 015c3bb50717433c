"""The main job: a folder of images → blur and combined layouts → layout JSON + atlases.

`run_build` runs the steps in order, each a call into the module that does it: plan (check the
options) → lock the output (embed/lock.py) → tidy up after killed runs (embed/sweep.py) → scan →
up-to-date check (embed/fingerprint.py) → extract → layouts (embed/layouts.py, continuing the saved map
of embed/positions.py) → atlases → write → remove the sheets no layout names. A layout is one unit: its
sheets are written under new, content-named files first and the JSON replaces the old one last, so a
reader sees the whole old layout or the whole new one, whatever stops the build. It prints nothing itself
beyond progress bars (and a line when it waits for another build); embed/summary.py turns what it
returns into the closing lines.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from embed import __version__
from embed.atlas_reuse import continued_slots
from embed.combine import layout_features
from embed.document import image_entries, layout_params, skipped_entries
from embed.extract import extract
from embed.fingerprint import inputs_fingerprint, layout_is_current, options_fingerprint
from embed.labels import folder_labels
from embed.layouts import Layout, compute_layouts
from embed.lock import build_lock
from embed.models import check_weights
from embed.options import BuildOptions, BuildPlan
from embed.positions import KeptMap, SavedPositions
from embed.scan import scan_folder
from embed.summary import BuildSummary
from embed.sweep import atlas_folder, named_sheets, remove_stale_temps, remove_unreferenced_sheets, layout_on_disk
from embed.thumbs import CELLS_PER_SIDE, MAX_ATLAS_CELL, atlas_order, write_atlases
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
                     cache_dir=(options.cache or output.parent / ".cache").resolve(), weights_tag=weights_tag)


def scan_exclusions(plan: BuildPlan) -> tuple[Path, ...]:
    """Folders of the build's own output that the scan must not read as images: the output's folder when it
    lies inside the images folder (or, when it is the images folder itself, the atlas folder), and the cache."""
    output_folder = plan.output.parent
    inside = output_folder != plan.source and output_folder.is_relative_to(plan.source)
    return (output_folder if inside else atlas_folder(plan.output), plan.cache_dir)


def run_build(options: BuildOptions) -> BuildSummary:
    """Run every step for `options`: write the layout JSON, its atlases and the saved map; return a summary.

    One build per output at a time: a second one waits for the first (or, with `options.no_wait`, raises
    embed.lock.BuildBusy).
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
    fingerprint = inputs_fingerprint(records, options, plan.weights_tag)
    if not options.fresh and layout_is_current(plan.output, fingerprint):
        return BuildSummary.nothing_to_do(plan.output, len(records), timer.seconds)

    with timer.stage("decode+features"):
        extracted = extract(records, plan.cache_dir, options.extract_options())
    skipped = skipped_entries(unreadable, extracted.failed)
    kept = extracted.records
    if not kept:
        raise UserError(f"{plan.source}: no readable images (skipped {len(skipped)})")

    ids = [r.id for r in kept]
    saved = SavedPositions.of_output(plan.cache_dir, plan.output, options_fingerprint(options, plan.weights_tag))
    kept_map = None if options.fresh else saved.load(ids)
    layouts, (cols, rows) = compute_layouts(layout_features(extracted.features, extracted.colour_blocks,
                                                            options.features),
                                            extracted.colours, folder_labels([r.rel for r in kept]), options,
                                            kept_map, timer.stage)
    try:
        with timer.stage("atlas"):  # blur-grid neighbours share a sheet, so a zoomed-in view reads few sheets
            levels, sheets, cells = write_atlases(extracted.thumbs, plan.output.parent,
                                                  rel_prefix=atlas_folder(plan.output).name,
                                                  cell_sizes=tuple(sorted(options.atlas_cells)),
                                                  progress=options.progress,
                                                  **_atlas_slots(previous, kept_map, ids, layouts["blur"], plan,
                                                                 options))
        doc = build_layout(generator_version=__version__,
                           params=layout_params(options, plan, extracted.weights_tag, fingerprint),
                           atlas_levels=levels, images=image_entries(kept, sheets, cells), cols=cols, rows=rows,
                           layouts={name: layout.contract_entry() for name, layout in layouts.items()},
                           skipped=skipped)
        with timer.stage("write"):
            saved.save(ids, {name: layout.map for name, layout in layouts.items()}, cols, rows)
            write_layout(plan.output, doc)
    except BaseException:
        if current is not None:   # the layout on disk is unchanged: its sheets stay, this run's go
            remove_unreferenced_sheets(plan.output, current)
        raise
    remove_unreferenced_sheets(plan.output, (current or set()) | named_sheets(doc, plan.output))
    return BuildSummary(output=plan.output, images=len(kept), seconds=timer.seconds,
                        computed=extracted.stats.get("computed", len(kept)),
                        cached=extracted.stats.get("cached", 0), skipped=skipped,
                        tsne=("from scratch" if kept_map is None
                              else f"incremental, {int(kept_map.new.sum())} new of {len(kept)}"),
                        metrics={name: layout.metrics for name, layout in layouts.items()})


def _atlas_slots(previous: dict | None, kept_map: KeptMap | None, ids: list[str], blur: Layout, plan: BuildPlan,
                 options: BuildOptions) -> dict:
    """write_atlases' slot arguments: an incremental run continues the atlas of the layout file it replaces
    (embed/atlas_reuse.py), new images in blur-grid order; otherwise every slot follows the blur grid."""
    order = atlas_order(blur.map.grid)
    if kept_map is not None and previous is not None and previous["params"].get("fit") == options.fit:
        continued = continued_slots(previous, ids, order, plan.output.parent, atlas_folder(plan.output).name,
                                    tuple(sorted(options.atlas_cells)), CELLS_PER_SIDE)
        if continued is not None:
            slots, reuse = continued
            return {"slots": slots, "reuse": reuse}
    return {"order": order}
