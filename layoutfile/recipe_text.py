"""A layout's recorded recipe (a free-form object, docs/layout-format.md) as one short line, for `embed info`
and the gallery's help overlay. Typically

    {"ingredients": [{"kind": "colour", "blur": 8, "weight": 1.0}, {"kind": "network", "weight": 1.0}],
     "perplexity": 30}

reads `colour blur 8 x1 + network x1, perplexity 30`. Missing or unknown keys are shown as they are
(`key value`), never an error: any recipe a future embed writes still gives a line.
"""

from __future__ import annotations

from typing import Any


def describe_recipe(recipe: Any) -> str:
    """A short one-line reading of a recipe object ('' for none)."""
    if recipe is None:
        return ""
    if not isinstance(recipe, dict):
        return _value(recipe)
    parts = []
    ingredients = recipe.get("ingredients")
    if isinstance(ingredients, list) and ingredients:
        parts.append(" + ".join(_ingredient(item) for item in ingredients))
    elif ingredients is not None:
        parts.append(f"ingredients {_value(ingredients)}")
    parts += [f"{key} {_value(value)}" for key, value in recipe.items() if key != "ingredients"]
    return ", ".join(parts)


def _ingredient(item: Any) -> str:
    if not isinstance(item, dict):
        return _value(item)
    words = [str(item.get("kind", "?"))]
    words += [f"{key} {_value(value)}" for key, value in item.items() if key not in ("kind", "weight")]
    if "weight" in item:
        words.append(f"x{_value(item['weight'])}")
    return " ".join(words)


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} {_value(v)}" for k, v in value.items()) + "}"
    return str(value)
