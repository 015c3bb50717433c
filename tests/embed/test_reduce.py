"""Dimensionality reduction: clusters stay apart, runs are reproducible, tiny inputs work; normalising
and turning 2-D layouts along the grid (principal_fit)."""

from __future__ import annotations

import numpy as np
import pytest

from embed.core.reduce import Projection, normalise_unit, principal_fit, reduce_to_2d


def clustered_features(n: int, dim: int = 60, k: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` points in `k` well-separated Gaussian clusters; returns (features, cluster label)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (k, dim))
    label = rng.integers(0, k, n)
    return centres[label] + rng.normal(0, 1, (n, dim)), label


def nearest_neighbour_same_label(xy: np.ndarray, label: np.ndarray) -> float:
    d = ((xy[:, None] - xy[None]) ** 2).sum(axis=2)
    np.fill_diagonal(d, np.inf)
    return float((label[d.argmin(axis=1)] == label).mean())


def test_clusters_stay_apart_in_2d():
    features, label = clustered_features(300)
    xy = reduce_to_2d(features, n_jobs=1, progress=False)
    assert xy.shape == (300, 2) and np.isfinite(xy).all()
    assert nearest_neighbour_same_label(xy, label) > 0.97


def test_same_input_and_seed_give_the_same_layout_with_threads_and_approximate_neighbours():
    features, _ = clustered_features(1000, dim=10, seed=1)  # ≥ 1000 points: Annoy neighbours
    first = reduce_to_2d(features, seed=3, n_jobs=2, progress=False)
    assert np.array_equal(first, reduce_to_2d(features, seed=3, n_jobs=2, progress=False))


def test_a_different_seed_gives_a_different_layout():
    features, _ = clustered_features(200, seed=2)
    a = reduce_to_2d(features, seed=0, n_jobs=1, progress=False)
    assert not np.allclose(a, reduce_to_2d(features, seed=1, n_jobs=1, progress=False))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 20])
def test_small_inputs_work_with_the_default_perplexity(n):
    features, _ = clustered_features(n, dim=10, seed=n)
    xy = reduce_to_2d(features, n_jobs=1, progress=False)
    assert xy.shape == (n, 2) and np.isfinite(xy).all()
    if n >= 2:
        assert len(np.unique(xy.round(9), axis=0)) == n  # distinct inputs stay distinct


def test_identical_rows_and_constant_columns_do_not_produce_nan():
    assert np.array_equal(reduce_to_2d(np.ones((30, 4)), progress=False), np.zeros((30, 2)))
    features, _ = clustered_features(60, dim=8, seed=4)
    features[:, 3] = 7.0
    assert np.isfinite(reduce_to_2d(features, n_jobs=1, progress=False)).all()


def test_progress_bar_counts_all_iterations(capsys):
    features, _ = clustered_features(80, dim=10, seed=5)
    reduce_to_2d(features, n_jobs=1, progress=True)
    assert "t-SNE" in capsys.readouterr().err.replace("\r", "\n").splitlines()[-1]
    reduce_to_2d(features, n_jobs=1, progress=True)
    assert "750/750" in capsys.readouterr().err


def test_bad_features_are_rejected():
    for bad in (np.zeros((0, 3)), np.zeros(5), np.array([[1.0, np.inf]])):
        with pytest.raises(ValueError):
            reduce_to_2d(bad, progress=False)


def test_normalise_unit_keeps_the_aspect_ratio_and_centres_the_short_side():
    xy = np.array([[-3.0, 10.0], [5.0, 12.0], [1.0, 11.0]])  # 8 wide, 2 tall
    out = normalise_unit(xy)
    assert out[:, 0].min() == 0.0 and out[:, 0].max() == 1.0
    assert np.ptp(out[:, 1]) == pytest.approx(2 / 8)
    assert out[:, 1].min() == pytest.approx((1 - 2 / 8) / 2)
    assert out[2] == pytest.approx([0.5, 0.5])
    assert np.array_equal(normalise_unit(np.full((4, 2), 3.0)), np.full((4, 2), 0.5))


def _turned(points: np.ndarray, angle: float) -> np.ndarray:
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rotate.T


def test_principal_fit_lays_the_longest_spread_along_the_asked_axis():
    rng = np.random.default_rng(6)
    moving = _turned(rng.normal(size=(400, 2)) * [3.0, 1.0], 1.1) + [40.0, -7.0]   # long axis at 63°
    for axis in (0, 1):
        matrix, offset = principal_fit(moving, long_axis=axis)
        turned = moving @ matrix + offset
        assert np.allclose(matrix @ matrix.T, np.eye(2))                       # a turn, not a stretch
        assert turned.std(axis=0)[axis] > 2.5 * turned.std(axis=0)[1 - axis]
        assert np.allclose(turned.mean(axis=0), moving.mean(axis=0) @ matrix)  # unscaled, unmoved otherwise


def test_principal_fit_without_a_target_takes_the_turn_nearest_the_points_as_they_are():
    rng = np.random.default_rng(2)
    already_along_x = rng.normal(size=(300, 2)) * [4.0, 1.0]
    matrix, _ = principal_fit(already_along_x)
    assert np.allclose(matrix, np.eye(2), atol=0.05)


def test_principal_fit_matches_a_target_that_lies_along_the_same_axis():
    rng = np.random.default_rng(7)
    target = rng.normal(size=(300, 2)) * [3.0, 1.0]
    for angle, mirror in [(2.1, 1.0), (0.4, -1.0), (np.pi, 1.0)]:
        moving = _turned(target * [mirror, 1.0], angle) * 0.37 + [5.0, 9.0] + rng.normal(0, 0.01, (300, 2))
        matrix, offset = principal_fit(moving, target)
        assert np.abs(moving @ matrix + offset - target).mean() < 0.05        # turned, reflected, scaled, shifted back
    with pytest.raises(ValueError):
        principal_fit(moving[:10], target)


def test_principal_fit_turns_towards_the_grid_even_against_the_target():
    """Of a target's orientation only the side each end points to is kept: a map whose long axis is
    diagonal to the target's still ends up along x, the way that matches the target best."""
    rng = np.random.default_rng(3)
    target = rng.normal(size=(300, 2)) * [3.0, 1.0]
    moving = _turned(target, np.pi / 5)
    matrix, offset = principal_fit(moving, target)
    turned = moving @ matrix + offset
    assert turned.std(axis=0)[0] > 2.5 * turned.std(axis=0)[1]
    assert np.corrcoef(turned[:, 0], target[:, 0])[0, 1] > 0.9


def test_normalise_unit_within_a_box_keeps_its_scale_and_clips_points_outside_it():
    box = np.array([[0.0, 0.0], [4.0, 2.0]])
    inside_and_out = np.array([[2.0, 1.0], [4.0, 2.0], [9.0, -5.0]])
    unit = normalise_unit(inside_and_out, within=box)
    assert unit == pytest.approx(np.array([[0.5, 0.5], [1.0, 0.75], [1.0, 0.25]]))


def test_a_projection_maps_rows_one_by_one_as_it_maps_them_all():
    features, _ = clustered_features(200, dim=80)
    projection = Projection.fit(features[:150], pca_dims=20, standardise=True)
    together = projection.apply(features)
    assert together.shape == (200, 20)
    assert projection.apply(features[150:]) == pytest.approx(together[150:], abs=1e-4)
    # the projection keeps the PCA's variance: the fitted rows are centred and their spread is kept
    assert np.abs(together[:150].mean(axis=0)).max() < 1e-4


def test_principal_fit_refuses_a_target_of_another_shape_and_an_unknown_axis():
    same_point = np.ones((5, 2))
    with pytest.raises(ValueError, match="differ in shape"):
        principal_fit(same_point, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="long_axis"):
        principal_fit(np.random.default_rng(0).normal(size=(5, 2)), long_axis=2)
    matrix, offset = principal_fit(same_point, np.arange(10.0).reshape(5, 2))   # no spread: onto the target's mean
    assert np.allclose(same_point @ matrix + offset, [4.0, 5.0])
