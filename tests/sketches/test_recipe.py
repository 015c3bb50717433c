"""The help overlay's one-line reading of a layout: name, label and recipe, whatever keys the recipe has."""

from layoutfile import describe_recipe
from sketches.lib.recipe import MAX_CHARS, layout_line

RECIPE = {"ingredients": [{"kind": "colour", "blur": 8, "weight": 1.0}, {"kind": "network", "blur": 0, "weight": 0.5}],
          "perplexity": 30}


def test_a_recipe_reads_as_its_ingredients_and_settings():
    assert describe_recipe(RECIPE) == "colour blur 8 x1 + network blur 0 x0.5, perplexity 30"


def test_missing_and_unknown_keys_never_fail():
    assert describe_recipe(None) == "" and describe_recipe({}) == ""
    assert describe_recipe({"ingredients": [{"weight": 2}, "odd"], "seed": [1, 2]}) == "? x2 + odd, seed 1,2"
    assert describe_recipe({"ingredients": "colour", "extra": {"a": 1.50}}) == "ingredients colour, extra {a 1.5}"
    assert describe_recipe(7) == "7"


def test_the_layout_line_names_position_name_label_and_recipe():
    doc = {"layouts": {"blur": {"label": "colour"}, "combined": {"label": "combined", "recipe": RECIPE}}}
    assert layout_line(doc, "blur") == "1/2 blur: colour"
    assert layout_line(doc, "combined") == "2/2 combined (colour blur 8 x1 + network blur 0 x0.5, perplexity 30)"
    doc["layouts"]["combined"]["recipe"] = {"note": "x" * 500}
    line = layout_line(doc, "combined")
    assert len(line) == MAX_CHARS and line.endswith("...")
