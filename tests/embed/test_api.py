"""The notebook API (embed/api.py): the example tour runs, and laying out again with new weights decodes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

import embed
import embed.decode.pil
import embed.network.models
from layoutfile import read_layout
from tests.embed.conftest import distinct_colours

ROOT = Path(__file__).resolve().parents[2]


def write_shapes(root: Path, per_shape: int = 10) -> None:
    """Discs, squares and bars in `per_shape` colours each, one sub-folder (label) per shape."""
    for shape in ("disc", "square", "bar"):
        (root / shape).mkdir(parents=True)
        for i, colour in enumerate(distinct_colours(per_shape)):
            img = Image.new("RGB", (64, 48), (255, 255, 255))
            draw = ImageDraw.Draw(img)
            {"disc": lambda: draw.ellipse([10, 5, 54, 43], fill=colour),
             "square": lambda: draw.rectangle([12, 6, 52, 42], fill=colour),
             "bar": lambda: draw.rectangle([0, 18, 64, 30], fill=colour)}[shape]()
            img.save(root / shape / f"{i:02d}.png")


def test_the_api_tour_runs_and_writes_a_three_stop_layout_file(tmp_path):
    write_shapes(tmp_path / "images")
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "api_tour.py"), str(tmp_path / "images"),
                             str(tmp_path / "tour")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "30 images, 0 skipped" in result.stdout and "re-laid out with new weights" in result.stdout
    doc = read_layout(tmp_path / "tour" / "tour.json")
    assert list(doc["layouts"]) == ["blur", "stop-2", "combined"]
    assert all("recipe" in layout for layout in doc["layouts"].values())
    with Image.open(tmp_path / "tour" / "stop-2.png") as poster:
        assert poster.size == (doc["grid"]["cols"] * 32, doc["grid"]["rows"] * 32)
        assert len(set(poster.convert("RGB").getdata())) > 10   # the images are in it, not one flat colour


def test_laying_out_again_with_new_weights_decodes_nothing_and_runs_no_network(tmp_path, monkeypatch):
    write_shapes(tmp_path / "images", per_shape=6)
    cache = tmp_path / "cache"
    recipe = embed.dial(3)
    first = embed.extract_features(tmp_path / "images", recipe, cache=cache, weights="random", progress=False)

    def forbidden(*args, **kwargs):
        raise AssertionError("decoded an image or built the network again")

    monkeypatch.setattr(embed.decode.pil, "open_image", forbidden)
    monkeypatch.setattr(embed.network.models.CnnModel, "load", forbidden)
    again = embed.extract_features(tmp_path / "images", recipe, cache=cache, weights="random", progress=False)
    np.testing.assert_array_equal(again.features.network[0.0], first.features.network[0.0])
    params = embed.LayoutParams(progress=False)
    heavier_colour = embed.lay_out(again.features, embed.dial(3, positions=[0.0, 0.05, 1.0]), params)
    lighter_colour = embed.lay_out(again.features, embed.dial(3, positions=[0.0, 0.6, 1.0]), params)
    assert heavier_colour.names == lighter_colour.names == ["blur", "stop-2", "combined"]
    weights = [{i.kind: i.weight for i in layouts["stop-2"].recipe.ingredients}["network"]
               for layouts in (heavier_colour, lighter_colour)]
    assert weights == pytest.approx([0.05, 0.6])
    assert not np.array_equal(heavier_colour["stop-2"].tsne, lighter_colour["stop-2"].tsne)


def test_a_matrix_of_your_own_is_one_layout_and_a_recipe_needing_missing_features_is_one_line():
    rng = np.random.default_rng(0)
    matrix = np.concatenate([rng.normal(0, 1, (20, 5)), rng.normal(8, 1, (20, 5))])
    layouts = embed.lay_out(matrix, params=embed.LayoutParams(progress=False))
    assert layouts.names == ["features"] and layouts["features"].grid.shape == (40, 2)
    assert "colour_ratio" not in layouts["features"].metrics   # no colours given: no colour metrics
    with pytest.raises(embed.core.layouts.UserError, match="needs colour features of blur level 8"):
        embed.lay_out(embed.FeatureSet.from_matrix(matrix), embed.default_recipe())
