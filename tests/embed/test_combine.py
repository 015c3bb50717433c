"""Per-level feature blocks → the blur and combined layouts' feature matrices."""

import numpy as np
import pytest

from embed.combine import blur_layout_levels, combine_blocks, layout_features
from layoutfile import UserError


def test_each_block_carries_its_weight_whatever_its_width_and_scale():
    rng = np.random.default_rng(0)
    wide_and_large = rng.normal(0, 50, (200, 512))
    narrow_and_small = rng.normal(0, 0.01, (200, 8))
    combined = combine_blocks([wide_and_large, narrow_and_small], [1.0, 0.5])
    assert combined.shape == (200, 520)
    assert combined[:, :512].var(axis=0).sum() == pytest.approx(1.0, rel=1e-3)
    assert combined[:, 512:].var(axis=0).sum() == pytest.approx(0.5, rel=1e-3)


def test_original_weighs_as_much_as_all_blur_levels_together():
    rng = np.random.default_rng(1)
    features = {r: rng.normal(size=(50, 16)) for r in (0.0, 2.0, 8.0, 32.0)}
    out = layout_features(features, blur_layout_levels([2.0, 8.0, 32.0], None))
    original, blurred = out["combined"][:, :16], out["combined"][:, 16:]
    assert original.var(axis=0).sum() == pytest.approx(blurred.var(axis=0).sum(), rel=1e-3)
    assert out["blur"].shape == (50, 32)  # levels 8 and 32 only


def test_blur_layout_levels_default_and_errors():
    assert blur_layout_levels([2.0, 8.0, 32.0], None) == [8.0, 32.0]
    assert blur_layout_levels([1.0, 3.0], None) == [3.0]
    assert blur_layout_levels([2.0, 8.0], [2.0]) == [2.0]
    with pytest.raises(UserError, match="not among"):
        blur_layout_levels([2.0, 8.0], [4.0])
