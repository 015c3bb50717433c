"""A recipe's ingredients → a layout's feature matrix (embed/core/combine.py), with the default recipe's two layouts."""

import numpy as np
import pytest

from embed.core.combine import recipe_matrix, scaled_block
from embed.core.featureset import FeatureSet
from embed.options import COLOUR_BLOCKS
from embed.core.recipe import DEFAULT_COMBINED_COLOUR, default_recipe


def default_matrices(features, colour, kind):
    """{'blur': …, 'combined': …}: the default recipe's matrices at the colour levels of `colour`."""
    recipe = default_recipe(tuple(colour))
    feature_set = FeatureSet({0.0: features}, colour, network_kind=kind)
    return {layout.name: recipe_matrix(layout, feature_set) for layout in recipe.layouts}


def test_each_block_carries_its_weight_whatever_its_width_and_scale():
    rng = np.random.default_rng(0)
    wide_and_large = scaled_block(rng.normal(0, 50, (200, 512)), 1.0)
    narrow_and_small = scaled_block(rng.normal(0, 0.01, (200, 8)), 0.5)
    assert wide_and_large.var(axis=0).sum() == pytest.approx(1.0, rel=1e-3)
    assert narrow_and_small.var(axis=0).sum() == pytest.approx(0.5, rel=1e-3)
    assert np.allclose(narrow_and_small.mean(axis=0), 0, atol=1e-6)


def test_columns_keep_their_relative_scales_so_lab_distances_stay_delta_e():
    rng = np.random.default_rng(1)
    lab = rng.normal(0, 1, (300, 3)) * [30.0, 10.0, 1.0]
    scaled = scaled_block(lab, 1.0)
    ratio = scaled.std(axis=0) / lab.std(axis=0)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)   # one factor for every column: no z-scoring


def test_unit_rows_ignore_each_images_feature_magnitude():
    rng = np.random.default_rng(2)
    features = np.abs(rng.normal(size=(100, 32)))
    louder = features * rng.uniform(0.1, 10, (100, 1))
    np.testing.assert_allclose(scaled_block(louder, 1.0, unit_rows=True), scaled_block(features, 1.0, unit_rows=True),
                               atol=1e-5)
    assert not np.allclose(scaled_block(louder, 1.0), scaled_block(features, 1.0), atol=1e-3)


def test_blur_layout_is_colour_only_and_combined_is_objects_first():
    rng = np.random.default_rng(3)
    features = np.abs(rng.normal(size=(60, 40)))
    colour = {8.0: rng.normal(size=(60, COLOUR_BLOCKS.dims)) * 20}
    out = default_matrices(features, colour, "cnn")
    assert out["blur"].shape == (60, COLOUR_BLOCKS.dims)
    assert out["blur"].var(axis=0).sum() == pytest.approx(1.0, rel=1e-3)
    mean_colour = out["blur"][:, :3]   # the 1×1 grid: as much weight as the 4×4 grid
    assert mean_colour.var(axis=0).sum() == pytest.approx(0.5, rel=1e-3)
    objects, colour_part = out["combined"][:, :40], out["combined"][:, 40:]   # the network first, then colour
    assert objects.var(axis=0).sum() == pytest.approx(1.0, rel=1e-3)
    assert colour_part.var(axis=0).sum() == pytest.approx(DEFAULT_COMBINED_COLOUR, rel=1e-3)
    np.testing.assert_allclose(colour_part, out["blur"] * np.sqrt(DEFAULT_COMBINED_COLOUR), atol=1e-5)


def test_every_blur_level_shares_the_colour_weight():
    rng = np.random.default_rng(4)
    colour = {r: rng.normal(size=(30, COLOUR_BLOCKS.dims)) for r in (4.0, 16.0)}
    out = default_matrices(rng.normal(size=(30, 8)), colour, "lab")
    assert out["blur"].shape == (30, 2 * COLOUR_BLOCKS.dims)
    assert out["blur"][:, :3].var(axis=0).sum() == pytest.approx(0.25, rel=1e-3)   # 4 blocks: mean and grid × 2
    assert out["blur"].var(axis=0).sum() == pytest.approx(1.0, rel=1e-3)
