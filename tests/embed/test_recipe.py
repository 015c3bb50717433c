"""Recipes (embed/core/recipe.py): TOML files and presets, their one-line errors, the dial and its spacing (embed/core/stops.py)."""

import numpy as np
import pytest

from embed.core.combine import recipe_matrix
from embed.core.stops import neighbourhood_change, spaced_positions
from embed.core.featureset import FeatureSet
from embed.options import COLOUR_BLOCKS
from embed.core.recipe import default_recipe, dial, load_recipe, mix, parse_recipe, preset_names
from layoutfile import UserError


def test_presets_include_the_default_the_dial_and_the_original_work():
    assert {"default", "dial", "original"} <= set(preset_names())
    assert load_recipe("default").describe() == default_recipe().describe()   # the file says what the code does
    dial_preset = load_recipe("dial")
    assert dial_preset.names == ["blur", "stop-2", "stop-3", "stop-4", "combined"] and dial_preset.dial_stops == 5
    original = load_recipe("original")
    assert original.names == ["heavy-blur", "medium-blur", "light-blur", "combined"]
    assert original.levels("network") == (0.0, 2.0, 8.0, 32.0) and original.levels("colour") == ()


def test_a_recipe_file_is_read_with_its_own_perplexity(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[[layout]]\nname = "warm"\nperplexity = 12\n'
                    'ingredients = [{kind = "colour", blur = 16, grid = 4, weight = 2}]\n')
    recipe = load_recipe(path)
    (layout,) = recipe.layouts
    assert recipe.name == "mine" and layout.name == "warm" and layout.label == "warm" and layout.perplexity == 12
    assert layout.describe() == {"ingredients": [{"kind": "colour", "blur": 16.0, "weight": 2.0, "grid": 4}],
                                 "perplexity": 12.0}
    assert layout.colour_polish == 0.0


def test_colour_polish_is_read_and_the_default_polishes_its_blur_layout_only(tmp_path):
    path = tmp_path / "polished.toml"
    path.write_text('[[layout]]\nname = "warm"\ncolour_polish = 0.5\n'
                    'ingredients = [{kind = "colour", blur = 8, grid = 1, weight = 1}]\n')
    (layout,) = load_recipe(path).layouts
    assert layout.colour_polish == 0.5 and layout.describe()["colour_polish"] == 0.5
    assert [layout.colour_polish for layout in default_recipe().layouts] == [0.75, 0.0]


@pytest.mark.parametrize("text, reason", [
    ("", "no \\[\\[layout\\]\\] tables"),
    ("[[layout]]\nname = 'A'\ningredients = [{kind = 'colour'}]", "name must be 1 to 40"),
    ("[[layout]]\nname = 'a'\ningredients = []", "ingredients must be a non-empty list"),
    ("[[layout]]\nname = 'a'\ningredients = [{kind = 'smell'}]", "kind must be one of colour, network"),
    ("[[layout]]\nname = 'a'\ningredients = [{kind = 'colour', grid = 3}]", "grid must be one of 1, 4"),
    ("[[layout]]\nname = 'a'\ningredients = [{kind = 'network', grid = 4}]", "grid is for colour ingredients"),
    ("[[layout]]\nname = 'a'\ningredients = [{kind = 'network', blur = -1}]", "blur must be a number from 0"),
    ("[[layout]]\nname = 'a'\ningredients = [{kind = 'network', weight = nan}]", "weight must be a number >= 0"),
    ("[[layout]]\nname = 'a'\ningredients = [{kind = 'network', weight = 0}]", "needs a weight > 0"),
    ("[[layout]]\nname = 'a'\nperplexity = -5\ningredients = [{kind = 'network'}]", "perplexity must be"),
    ("[[layout]]\nname = 'a'\ncolour_polish = -1\ningredients = [{kind = 'network'}]", "colour_polish must be"),
    ("[[layout]]\nname = 'a'\ningredients = [{kind = 'network'}, {kind = 'network'}]", "listed twice"),
    ("[[layout]]\nname = 'a'\ningredients = [{kind = 'network'}]\n[[layout]]\nname = 'a'\n"
     "ingredients = [{kind = 'network'}]", "names must differ"),
    ("[[layout]]\nname = 'a'\ncolour = 1\ningredients = [{kind = 'network'}]", "unknown key\\(s\\) colour"),
    ("[dial]\nstops = 3\n[[layout]]\nname = 'a'\ningredients = [{kind = 'network'}]", "needs a recipe with two"),
    ("[[layout]\nname = 'a'", "not valid TOML"),
])
def test_a_bad_recipe_is_one_line_naming_the_file(tmp_path, text, reason):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=reason) as caught:
        load_recipe(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_a_missing_recipe_names_the_presets(tmp_path):
    with pytest.raises(UserError, match="no such recipe file .*presets: .*dial"):
        load_recipe(tmp_path / "nope.toml")


def test_mixing_interpolates_every_ingredients_weight():
    blur, combined = default_recipe().layouts
    halfway = mix(blur, combined, 0.5, "half", "Half")
    weights = {i.source: i.weight for i in halfway.ingredients}
    assert weights[("network", 0.0, None)] == pytest.approx(0.5)
    assert weights[("colour", 8.0, 1)] == pytest.approx(0.5 * 0.5 + 0.5 * 0.05)
    assert halfway.colour_share() == pytest.approx(0.55 / 1.05)


def test_the_dial_keeps_its_ends_and_the_default_is_two_stops():
    assert dial(2).names == ["blur", "combined"]
    five = dial(5, positions=[0, 0.1, 0.2, 0.5, 1])
    assert five.layouts[0] == default_recipe().layouts[0] and five.layouts[-1] == default_recipe().layouts[-1]
    assert [round(layout.colour_share(), 3) for layout in five.layouts] == sorted(
        [round(layout.colour_share(), 3) for layout in five.layouts], reverse=True)
    with pytest.raises(UserError, match="--stops must be 2 to 16"):
        dial(1)


def clustered_features(n=400, seed=0):
    """Colour blocks and 'network' rows of n images: colour in 8 families, objects in 5 other families."""
    rng = np.random.default_rng(seed)
    colour_family, object_family = rng.integers(0, 8, n), rng.integers(0, 5, n)
    colour = rng.normal(0, 40, (8, COLOUR_BLOCKS.dims))[colour_family] + rng.normal(0, 5, (n, COLOUR_BLOCKS.dims))
    network = rng.normal(0, 1, (5, 64))[object_family] + rng.normal(0, 0.3, (n, 64))
    return FeatureSet({0.0: np.abs(network)}, {8.0: colour.astype(np.float32)}), colour_family, object_family


def test_dial_stops_are_spaced_so_each_step_changes_the_neighbourhoods_about_equally():
    features, _, _ = clustered_features()
    ends = default_recipe()
    first, last = (recipe_matrix(layout, features) for layout in ends.layouts)
    positions = spaced_positions(first, last, 5)
    assert positions[0] == 0.0 and positions[-1] == 1.0 and positions == sorted(positions)
    recipe = dial(5, positions=positions)
    matrices = [recipe_matrix(layout, features) for layout in recipe.layouts]
    steps = [neighbourhood_change(a, b) for a, b in zip(matrices[:-1], matrices[1:])]
    even = [recipe_matrix(layout, features) for layout in dial(5, positions=[0, 0.25, 0.5, 0.75, 1]).layouts]
    even_steps = [neighbourhood_change(a, b) for a, b in zip(even[:-1], even[1:])]
    assert np.std(steps) < np.std(even_steps)   # more even than even spacing
    assert max(steps) < 2.0 * min(steps)


def test_neighbourhood_change_is_zero_for_the_same_arrangement_and_large_for_unrelated_ones():
    rng = np.random.default_rng(5)
    xy = rng.normal(size=(300, 2))
    assert neighbourhood_change(xy, xy * 3 + 1) == 0.0
    assert neighbourhood_change(xy, rng.normal(size=(300, 2))) > 0.9
