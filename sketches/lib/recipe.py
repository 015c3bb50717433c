"""One line that says what a layout is: its name, label and recipe (the help overlay's `layout` row)."""

from __future__ import annotations

from layoutfile import describe_recipe, layout_names

MAX_CHARS = 120   # longer lines end in "..."


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
