"""Display positions of the t-SNE state (embed/core/spread.py) and the metrics that judge them.

The targets (issue 9) are asserted on real t-SNE maps of generated clustered features, measured from
a written layout file with the sketch's fit of the map into the grid's box.
"""

from __future__ import annotations

import numpy as np
import pytest

from embed import __version__
from embed.core.grid import grid_shape
from embed.core.metrics import (DISPLAY_TARGETS, covered_share, display_metrics, knn_agreement, meets_display_targets,
                           union_coverage)
from embed.core.reduce import normalise_unit, reduce_to_2d
from embed.core.spread import SpreadParams, display_positions, display_world, spread_layout
from layoutfile import build_layout, display_arrays, read_layout, tsne_world, write_layout


def clustered_features(n: int, seed: int = 0, dims: int = 32) -> np.ndarray:
    """A mixed collection in feature space: clusters of very different sizes (30×) and spreads (4×) in a few
    superclusters, plus 1 % outliers."""
    rng = np.random.default_rng(seed)
    k = max(8, round(np.sqrt(n) / 3))
    supers = rng.normal(size=(max(3, k // 6), dims)) * 6.0
    centres = supers[rng.integers(len(supers), size=k)] + rng.normal(size=(k, dims)) * 2.5
    spread = np.exp(rng.uniform(np.log(0.5), np.log(2.0), k))
    weights = np.exp(rng.uniform(0, np.log(30), k))
    counts = rng.multinomial(n - n // 100, weights / weights.sum())
    parts = [c + rng.normal(size=(m, dims)) * s for c, m, s in zip(centres, counts, spread)]
    parts.append(rng.normal(size=(n // 100, dims)) * 8.0)
    return np.concatenate(parts).astype(np.float32)[rng.permutation(n)]


@pytest.fixture(scope="module")
def tsne_map() -> np.ndarray:
    """A real openTSNE map (normalised like a layout's `tsne`) of 1,500 generated clustered images."""
    return normalise_unit(reduce_to_2d(clustered_features(1500), seed=0, progress=False, n_jobs=1))


def written_layout(tmp_path, tsne: np.ndarray, display: np.ndarray, size: float, cols: int, rows: int):
    """Write a layout file holding the map and its display positions; return the document read back."""
    n = len(tsne)
    cells = np.arange(n)
    images = [{"id": str(i), "path": f"{i}.jpg", "width": 8, "height": 8, "atlas_sheet": 0, "atlas_cell": i}
              for i in range(n)]
    layouts = {name: {"label": name, "tsne": tsne, "grid": np.stack([cells % cols, cells // cols], axis=1),
                      "tsne_display": display, "tsne_image_size": size} for name in ("blur", "combined")}
    doc = build_layout(generator_version=__version__, params={}, images=images, cols=cols, rows=rows,
                       atlas_levels=[{"cell_px": 8, "sheet_px": 8 * 64, "files": ["a.png"]}], layouts=layouts,
                       skipped=[])
    write_layout(tmp_path / "layout.json", doc)
    return read_layout(tmp_path / "layout.json")


def test_targets_hold_on_a_generated_clustered_tsne_layout_read_back_from_the_file(tsne_map, tmp_path):
    cols, rows = grid_shape(len(tsne_map))
    world_raw = tsne_world(tsne_map, cols, rows)
    assert covered_share(world_raw, 0.94) > 0.5                      # as t-SNE draws it, most images are hidden
    result = spread_layout(tsne_map, cols, rows)
    doc = written_layout(tmp_path, tsne_map, result.positions, result.size, cols, rows)
    display, size = display_arrays(doc, "blur")
    world = tsne_world(display, cols, rows)                           # the sketch's fit of the stored array
    assert size == pytest.approx(result.size, abs=1e-6) and 0.3 < size <= 0.95
    assert covered_share(world, size) <= 0.10
    assert union_coverage(world, size, cols, rows) >= 0.30
    assert knn_agreement(tsne_map, display) >= 0.80
    assert display_metrics(tsne_map, display, size, cols, rows) == pytest.approx(result.metrics, abs=0.01)


def test_same_map_same_positions_and_the_contract_convention(tsne_map):
    cols, rows = grid_shape(len(tsne_map))
    first, size = display_positions(tsne_map, cols, rows)
    again, size_again = display_positions(tsne_map.copy(), cols, rows)
    assert np.array_equal(first, again) and size == size_again
    assert first.shape == tsne_map.shape and np.isfinite(first).all()
    assert first.min() >= 0 and first.max() <= 1 and np.ptp(first, axis=0).max() == pytest.approx(1.0)


def test_stored_positions_reproduce_the_world_positions_through_the_sketch_fit(tsne_map):
    cols, rows = grid_shape(len(tsne_map))
    world, size = display_world(tsne_world(tsne_map, cols, rows), cols, rows)
    stored = np.round(normalise_unit(world), 6)                       # as build_layout writes it
    assert np.abs(tsne_world(stored, cols, rows) - world).max() < 1e-3


def test_the_guard_raises_cover_when_coverage_falls_short(tsne_map):
    cols, rows = grid_shape(len(tsne_map))
    thin = SpreadParams(cover=0.36)
    positions, size = display_positions(tsne_map, cols, rows, thin)
    assert display_metrics(tsne_map, positions, size, cols, rows)["display_union_coverage"] < 0.30
    result = spread_layout(tsne_map, cols, rows, thin)
    assert meets_display_targets(result.metrics) and result.size > size


@pytest.mark.parametrize("points", [np.zeros((0, 2)), np.array([[0.5, 0.5]]), np.full((10, 2), 0.5)])
def test_degenerate_maps_come_back_unchanged_at_full_size(points):
    positions, size = display_positions(points, 4, 3)
    assert np.array_equal(positions, points) and size == 1.0


def test_metrics_on_known_arrangements():
    # two unit squares a quarter apart cover 75 % of each other; 0.6 apart, 40 %
    assert covered_share(np.array([[0.0, 0.0], [0.25, 0.0]]), 1.0) == 1.0
    assert covered_share(np.array([[0.0, 0.0], [0.6, 0.0]]), 1.0) == 0.0
    assert covered_share(np.array([[0.0, 0.0], [0.3, 0.3]]), 1.0) == 0.0            # 0.7² = 0.49
    assert covered_share(np.array([[0.0, 0.0], [0.2, 0.2], [5.0, 5.0]]), 1.0) == pytest.approx(2 / 3)   # 0.8² = 0.64
    # many near neighbours (more than the k candidates) and one that covers: still found
    crowd = np.concatenate([[[0.0, 0.0], [0.1, 0.1]], np.stack([np.linspace(-0.45, 0.45, 30), np.full(30, 0.45)], 1)])
    assert covered_share(crowd, 1.0, k=4) == 1.0
    full = np.stack(np.meshgrid(np.arange(4) + 0.5, np.arange(3) + 0.5), -1).reshape(-1, 2)
    assert union_coverage(full, 1.0, 4, 3) == pytest.approx(1.0)
    assert union_coverage(full, 0.5, 4, 3) == pytest.approx(0.25, abs=0.01)
    assert union_coverage(full[:1], 1.0, 4, 3) == pytest.approx(1 / 12)
    x = np.random.default_rng(0).normal(size=(500, 2))
    assert knn_agreement(x, 3 * x @ np.array([[0.6, -0.8], [0.8, 0.6]]) + 1) == 1.0   # a similarity keeps them
    assert knn_agreement(x, np.random.default_rng(1).normal(size=(500, 2))) < 0.1
    assert set(DISPLAY_TARGETS) == {"display_covered_gt_half", "display_union_coverage", "display_knn10_agreement"}
