"""One line that says what a layout is: its name, label and recipe (the help overlay's `layout` row).

A layout's `recipe` is a free-form object (docs/layout-format.md), typically

    {"ingredients": [{"kind": "colour", "blur": 8, "weight": 1.0}, {"kind": "network", "weight": 1.0}],
     "perplexity": 30}

which reads `colour blur 8 x1 + network x1, perplexity 30`. Missing or unknown keys are shown as they are
(`key value`), never an error: any recipe a future embed writes still gives a line.
"""

from __future__ import annotations

from typing import Any

from layoutfile import layout_names

MAX_CHARS = 120   # longer lines end in "..."


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


def layout_line(doc: dict, name: str) -> str:
    """'k/n name: label, recipe' for layout `name` of a read document, at most MAX_CHARS characters."""
    names = layout_names(doc)
    entry = doc["layouts"][name]
    label = entry.get("label")
    line = f"{names.index(name) + 1}/{len(names)} {name}"
    if label and label != name:
        line += f": {label}"
    recipe = describe_recipe(entry.get("recipe"))
    if recipe:
        line += f" ({recipe})"
    return line if len(line) <= MAX_CHARS else line[:MAX_CHARS - 3] + "..."


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
