"""Layout quality metrics on generated data with known answers, and DPQ against vc_flas's reference."""

from __future__ import annotations

import numpy as np
import pytest
from vc_flas.metrics import distance_preservation_quality

from embed.core.metrics import (category_metrics, dpq, knn_preservation, layout_metrics, mean_pairwise_distance,
                           neighbour_colour_distance)


def lattice(cols: int, rows: int) -> np.ndarray:
    """(col, row) of every cell of a cols × rows grid."""
    return np.stack(np.meshgrid(np.arange(cols), np.arange(rows), indexing="ij"), axis=-1).reshape(-1, 2)


def gradient_lab(cells: np.ndarray) -> np.ndarray:
    """Lab colours that change smoothly across the grid: lightness with the column, a with the row."""
    return np.stack([20 + 3.0 * cells[:, 0], -40 + 5.0 * cells[:, 1], np.zeros(len(cells))], axis=1)


def test_neighbour_colour_distance_known_2x2_case():
    grid = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    lab = np.array([[0, 0, 0], [3, 4, 0], [0, 0, 10], [0, 0, 0]], dtype=float)
    # pairs: (0,0)-(1,0): 5, (0,1)-(1,1): 10, (0,0)-(0,1): 10, (1,0)-(1,1): 5
    assert neighbour_colour_distance(grid, lab) == pytest.approx(7.5)


def test_neighbour_colour_distance_skips_empty_cells():
    grid = np.array([[0, 0], [2, 0], [1, 1]])  # no two of these cells touch
    assert neighbour_colour_distance(grid, np.eye(3) * 50) == 0.0
    grid = np.array([[0, 0], [1, 0], [3, 0]])  # only the first pair touches
    lab = np.array([[50, 0, 0], [50, 6, 8], [0, 0, 0]], dtype=float)
    assert neighbour_colour_distance(grid, lab) == pytest.approx(10.0)


def test_colour_sorted_grid_beats_shuffled_grid():
    cells = lattice(20, 15)
    lab = gradient_lab(cells)
    shuffled = cells[np.random.default_rng(0).permutation(len(cells))]
    sorted_de = neighbour_colour_distance(cells, lab)
    assert sorted_de == pytest.approx((19 * 15 * 3.0 + 20 * 14 * 5.0) / (19 * 15 + 20 * 14))
    assert neighbour_colour_distance(shuffled, lab) > 5 * sorted_de


@pytest.mark.parametrize(("holes", "p"), [(0, 2), (0, 16), (41, 16)])
def test_dpq_matches_vc_flas_on_grids(holes, p):
    rng = np.random.default_rng(holes + p)
    cols, rows, dim = 24, 15, 6
    n = cols * rows - holes
    features = rng.normal(size=(n, dim))
    features[:, 0] += np.linspace(0, 8, n)  # some structure, partly kept by the arrangement below
    cells = lattice(cols, rows)[np.sort(rng.permutation(cols * rows)[:n])]  # column by column
    arranged = np.zeros((rows, cols, dim))
    valid = np.zeros((rows, cols), dtype=bool)
    arranged[cells[:, 1], cells[:, 0]] = features
    valid[cells[:, 1], cells[:, 0]] = True
    expected = distance_preservation_quality(arranged, valid if holes else None, p=p)
    assert dpq(features, cells, p) == pytest.approx(expected, rel=1e-9)


def test_dpq_perfect_arrangement_beats_shuffled():
    cells = lattice(30, 20)
    features = cells + np.random.default_rng(1).normal(0, 0.05, cells.shape)  # features = grid position
    shuffled = cells[np.random.default_rng(2).permutation(len(cells))]
    perfect = dpq(features, cells)
    assert perfect > 0.99
    assert dpq(features, shuffled) < 0.6 < perfect
    assert dpq(features, features) == pytest.approx(1.0)  # continuous positions: identical order


def test_dpq_subsample_is_seeded_and_close_to_the_full_value():
    cells = lattice(40, 30)
    features = cells + np.random.default_rng(3).normal(0, 2.0, cells.shape)
    full = dpq(features, cells)
    part = dpq(features, cells, max_points=600, seed=5)
    assert part == dpq(features, cells, max_points=600, seed=5)
    assert part == pytest.approx(full, abs=0.05)


def test_knn_preservation_known_cases():
    rng = np.random.default_rng(4)
    points = rng.normal(size=(500, 2))
    assert knn_preservation(points, points * 3 + 1, k=10) == 1.0  # a similarity keeps every neighbour
    random_layout = knn_preservation(points, rng.normal(size=(500, 2)), k=10)
    assert random_layout < 0.1  # chance level is k / N = 0.02
    line = np.arange(50.0)[:, None]
    # on a 1-row grid, ties at equal distance are broken by feature distance: still perfect
    assert knn_preservation(line, np.stack([np.arange(50), np.zeros(50)], axis=1), k=4) == 1.0


def test_knn_preservation_samples_queries_but_searches_all_points():
    rng = np.random.default_rng(5)
    features = rng.normal(size=(3000, 8))
    layout = features[:, :2] + rng.normal(0, 0.3, (3000, 2))
    full = knn_preservation(features, layout)
    assert knn_preservation(features, layout, max_queries=500) == pytest.approx(full, abs=0.03)


def test_layout_metrics_of_a_sorted_layout():
    cells = lattice(20, 15)
    lab = gradient_lab(cells)
    features = np.concatenate([lab, np.random.default_rng(6).normal(0, 0.5, (len(cells), 5))], axis=1)
    result = layout_metrics(features, lab, cells, cells + 0.3)
    assert set(result) == {"colour_ratio", "neighbour_colour_dE", "random_colour_dE", "knn10_grid", "knn10_tsne",
                           "dpq16_grid", "dpq16_tsne", "knn_queries", "dpq_points"}
    assert result["neighbour_colour_dE"] < 0.3 * result["random_colour_dE"]
    assert result["colour_ratio"] == pytest.approx(result["neighbour_colour_dE"] / result["random_colour_dE"])
    assert 0.2 < result["knn10_grid"] <= 1 and 0.2 < result["knn10_tsne"] <= 1
    assert 0.8 < result["dpq16_grid"] <= 1
    assert result["dpq_points"] == result["knn_queries"] == len(cells)
    assert all(isinstance(v, (int, float)) for v in result.values())


def test_layout_metrics_of_one_image():
    result = layout_metrics(np.ones((1, 4)), np.zeros((1, 3)), np.zeros((1, 2), dtype=int), np.zeros((1, 2)))
    assert result["neighbour_colour_dE"] == 0.0 and result["dpq16_grid"] == 1.0 and result["knn10_grid"] == 1.0


def test_mean_pairwise_distance_is_the_mean_over_all_pairs_of_different_images():
    lab = np.array([[0, 0, 0], [3, 4, 0], [0, 0, 10]], dtype=float)
    assert mean_pairwise_distance(lab) == pytest.approx((5 + 10 + np.sqrt(9 + 16 + 100)) / 3)
    assert mean_pairwise_distance(lab[:1]) == 0.0


def test_category_metrics_of_grouped_and_mixed_grids():
    cells = lattice(4, 2)                       # columns 0-1 hold 'a', columns 2-3 hold 'b'
    labels = ["a" if col < 2 else "b" for col, _ in cells]
    grouped = category_metrics(cells, labels)
    # 10 neighbour pairs, 2 of them across the border; chance: 2 × 4·3 / (8·7) = 3/7
    assert grouped["same_category_neighbours"] == pytest.approx(0.8)
    assert grouped["random_same_category"] == pytest.approx(3 / 7)
    assert grouped["category_ratio"] == pytest.approx(0.8 * 7 / 3)
    checker = ["a" if (col + row) % 2 else "b" for col, row in cells]
    assert category_metrics(cells, checker)["category_ratio"] == 0.0


def test_layout_metrics_measure_categories_when_given_labels():
    cells = lattice(6, 4)
    labels = [str(col // 3) for col, _ in cells]
    result = layout_metrics(np.asarray(cells, float), gradient_lab(cells), cells, cells + 0.1, labels)
    assert result["category_ratio"] > 1.5 and result["random_same_category"] == pytest.approx(11 / 23)
