"""Each fresh t-SNE map is turned so that its longest spread lies along the grid's long side (embed/core/reduce.py
`principal_fit`), and a recipe's later layouts keep the first one's orientation."""

from __future__ import annotations

import numpy as np
import pytest

from embed.core.featureset import FeatureSet
from embed.core.layouts import lay_out
from embed.core.recipe import default_recipe
from embed.options import LayoutParams


def clusters_on_a_line(n_clusters: int = 8, per_cluster: int = 30, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Gaussian clusters in 16-D whose centres lie along one line: their t-SNE map is a long chain."""
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=16)
    direction /= np.linalg.norm(direction)
    rows = [k * 6.0 * direction + rng.normal(size=(per_cluster, 16)) for k in range(n_clusters)]
    return np.concatenate(rows), [f"c{k}" for k in range(n_clusters) for _ in range(per_cluster)]


@pytest.mark.parametrize("aspect, long_axis", [(16 / 9, 0), (9 / 16, 1)])
def test_a_long_map_lies_along_the_grids_long_side(aspect, long_axis):
    features, _ = clusters_on_a_line()
    layouts = lay_out(features, params=LayoutParams(aspect=aspect, progress=False))
    (layout,) = layouts
    spread = layout.tsne.std(axis=0)
    assert spread[long_axis] > 2 * spread[1 - long_axis]
    cols, rows = layouts.cols, layouts.rows
    assert (cols > rows) == (long_axis == 0)
    # the chain runs along the grid too: first and last clusters at opposite ends of the long side
    ends = [layout.grid[i * 30:(i + 1) * 30, long_axis].mean() for i in (0, 7)]
    assert abs(ends[1] - ends[0]) > 0.6 * (cols if long_axis == 0 else rows)


def test_the_second_layout_keeps_the_first_ones_orientation():
    network, labels = clusters_on_a_line(seed=1)
    colour = np.repeat(np.linspace(0, 100, 8), 30)[:, None] * np.ones((1, 3))
    blocks = np.concatenate([colour] + [colour] * 16, axis=1).astype(np.float32)   # 1×1 and 4×4 grids alike
    features = FeatureSet({0.0: network}, {8.0: blocks}, colour, labels)
    blur, combined = lay_out(features, default_recipe(), LayoutParams(progress=False))
    # both maps order the clusters the same way along x: neither is a mirror image of the other
    assert np.corrcoef(blur.tsne[:, 0], combined.tsne[:, 0])[0, 1] > 0.8
