"""Recipes: what each layout of a build is made of, as weighted ingredients (docs/features.md).

An ingredient is one block of features per image:
- `colour`: the CIELAB colour blocks of the image blurred at level `blur` (sigma as on a 224-px image) and shrunk
  to 32 px: its mean colour (`grid = 1`) or a 4×4 grid (`grid = 4`); Lab units are kept, so distances are ΔE;
- `network`: the network's pooled features of the image blurred at level `blur` (0 = the original; with
  `--features lab` the 8×8 Lab grid takes the network's place).

Each block is centred and scaled so that its summed column variance equals its `weight` (embed/core/combine.py),
so the weights say how much each ingredient counts, whatever its size. A layout may set its own t-SNE
perplexity, and `colour_polish`: its cold grid is then FLAS-sorted by the images' mean colours, anchored to the
t-SNE cells with a radius of that share of the grid's longer side (embed/core/colour_sort.py; the default blur
layout: 0.75, docs/features.md). A recipe is an ordered list of layouts, colour first: each layout's map is aligned onto the
one before it. Recipes come from TOML files (`load_recipe`), from the presets shipped in embed/core/recipes/,
or from `dial` (N stops between a recipe's first and last layout).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from embed.options import COLOUR_BLOCKS
from layoutfile import UserError
from layoutfile.names import NAME_PATTERN
from layoutfile.validate import MAX_LAYOUTS   # a recipe makes as many layouts as a layout file holds

KINDS = ("colour", "network")
PRESETS = Path(__file__).resolve().parent / "recipes"
MAX_BLUR = 224.0          # a blur level above the reference side blurs every image to its mean colour
MAX_POLISH = 4.0          # colour_polish: beyond a few grid sides the anchor no longer matters


@dataclass(frozen=True)
class Ingredient:
    """One weighted block of features (module docstring)."""

    kind: str                 # "colour" or "network"
    blur: float = 0.0         # blur level of the copy it comes from; 0 = the original
    weight: float = 1.0
    grid: int | None = None   # colour: Lab cells per side, one of COLOUR_BLOCKS.grids; None for network

    @property
    def source(self) -> tuple:
        """What has to be extracted for it (the weight aside)."""
        return self.kind, self.blur, self.grid

    def describe(self) -> dict:
        """The ingredient as a layout file records it."""
        entry = {"kind": self.kind, "blur": self.blur, "weight": round(self.weight, 6)}
        return entry | ({"grid": self.grid} if self.grid is not None else {})


@dataclass(frozen=True)
class LayoutRecipe:
    """One layout: its name and label, its ingredients, and optionally its own t-SNE perplexity and colour polish."""

    name: str
    label: str
    ingredients: tuple[Ingredient, ...]
    perplexity: float | None = None   # None: the build's --perplexity
    colour_polish: float = 0.0        # > 0: the cold grid's colour polish radius, share of the longer side

    def describe(self) -> dict:
        """The recipe as the layout file records it (layoutfile: `layouts[name].recipe`)."""
        entry = {"ingredients": [i.describe() for i in self.ingredients]}
        entry |= {"perplexity": self.perplexity} if self.perplexity is not None else {}
        return entry | ({"colour_polish": self.colour_polish} if self.colour_polish else {})

    def colour_share(self) -> float:
        """Share of the total weight that is colour (1 = colour only)."""
        total = sum(i.weight for i in self.ingredients)
        return sum(i.weight for i in self.ingredients if i.kind == "colour") / total


@dataclass(frozen=True)
class Recipe:
    """An ordered list of layouts, colour first (each map is aligned onto the one before it)."""

    layouts: tuple[LayoutRecipe, ...]
    name: str = "custom"
    dial_positions: tuple[float, ...] = ()   # a dial's stops: each one's mix from the first (0) to the last (1)
    dial_stops: int = 0                      # > 0: a dial whose stops the core still has to space (embed/core/stops.py)

    @property
    def names(self) -> list[str]:
        return [layout.name for layout in self.layouts]

    def levels(self, kind: str) -> tuple[float, ...]:
        """The blur levels that `kind` ingredients need, ascending."""
        return tuple(sorted({i.blur for layout in self.layouts for i in layout.ingredients if i.kind == kind}))

    def describe(self) -> list:
        """Everything a layout depends on in the recipe (part of the build's fingerprint)."""
        return [[layout.name, layout.label, layout.describe()] for layout in self.layouts] + [self.dial_stops]


def _colour(blur: float, grid: int, weight: float) -> Ingredient:
    return Ingredient("colour", blur, weight, grid)


DEFAULT_BLUR = 8.0
DEFAULT_COMBINED_COLOUR = 0.10   # the colour blocks' total weight in the combined layout (docs/features.md)
DEFAULT_COLOUR_POLISH = 0.75     # the blur layout's colour polish radius (docs/features.md)


def default_recipe(blur: tuple[float, ...] = (DEFAULT_BLUR,)) -> Recipe:
    """The two layouts of a default build: `blur` (colour blocks only: the mean colour and the 4×4 grid of
    each `blur` level, all at equal weight; its grid colour-polished) and `combined` (the network's features of
    the original, weight 1, plus the same colour blocks at a total weight of 0.1: objects first, colour within)."""
    levels = sorted(set(blur))
    share = 1.0 / (len(levels) * len(COLOUR_BLOCKS.grids))
    colour = [(level, grid) for level in levels for grid in COLOUR_BLOCKS.grids]
    return Recipe((
        LayoutRecipe("blur", "Blur only", tuple(_colour(level, grid, share) for level, grid in colour),
                     colour_polish=DEFAULT_COLOUR_POLISH),
        LayoutRecipe("combined", "Original + blur",
                     (Ingredient("network", 0.0, 1.0),
                      *(_colour(level, grid, share * DEFAULT_COMBINED_COLOUR) for level, grid in colour))),
    ), name="default")


def mix(first: LayoutRecipe, last: LayoutRecipe, position: float, name: str, label: str) -> LayoutRecipe:
    """The layout `position` of the way from `first` (0) to `last` (1): every ingredient of either at the
    weight (1 − position) · its weight in `first` + position · its weight in `last`."""
    weights: dict[tuple, float] = {}
    for share, layout in ((1 - position, first), (position, last)):
        for ingredient in layout.ingredients:
            weights[ingredient.source] = weights.get(ingredient.source, 0.0) + share * ingredient.weight
    ingredients = tuple(Ingredient(kind, blur, weight, grid) for (kind, blur, grid), weight in weights.items()
                        if weight > 0)
    perplexity = first.perplexity if first.perplexity == last.perplexity else None
    return LayoutRecipe(name, label, ingredients, perplexity)


def dial(stops: int, ends: Recipe | None = None, positions: list[float] | None = None) -> Recipe:
    """`stops` layouts from `ends`' first layout (pure colour in the default) to its last (objects), mixing
    their ingredients (`mix`) at `positions` from 0 to 1. Without positions, the core (embed/core/layouts.py)
    places them once it has the features, so that each step changes the picture about equally
    (embed/core/stops.py); until then they are evenly spaced. The end stops keep their names; those between are
    stop-2 …"""
    ends = ends or default_recipe()
    if not 2 <= stops <= MAX_LAYOUTS:
        raise UserError(f"--stops must be 2 to {MAX_LAYOUTS}, not {stops}")
    if len(ends.layouts) < 2:
        raise UserError(f"a dial needs a recipe with two or more layouts (its ends), {ends.name!r} has one")
    spaced = positions is not None
    positions = list(positions) if spaced else [k / (stops - 1) for k in range(stops)]
    if len(positions) != stops:
        raise ValueError(f"{stops} stops need {stops} positions, got {len(positions)}")
    first, last = ends.layouts[0], ends.layouts[-1]
    layouts = []
    for k, position in enumerate(positions):
        if k == 0:
            layouts.append(first)
        elif k == stops - 1:
            layouts.append(last)
        else:
            layouts.append(mix(first, last, position, f"stop-{k + 1}",
                               f"Stop {k + 1} of {stops}, {round(100 * position)} % towards {last.label}"))
    return Recipe(tuple(layouts), name=f"dial-{stops}", dial_positions=tuple(positions),
                  dial_stops=0 if spaced else stops)


def preset_names() -> list[str]:
    """The recipes shipped in embed/core/recipes/ (FILE.toml → FILE)."""
    return sorted(path.stem for path in PRESETS.glob("*.toml"))


def load_recipe(name_or_path: str | Path) -> Recipe:
    """A recipe from a TOML file, or a preset by name (preset_names()); UserError naming the file and the
    problem. Format (docs/features.md, "Recipes"):

        [[layout]]
        name = "blur"                 # 1-40 of a-z 0-9 _ - ; unique
        label = "Blur only"           # optional
        perplexity = 30               # optional
        colour_polish = 0.75          # optional: FLAS colour polish of the cold grid (share of the longer side)
        ingredients = [{kind = "colour", blur = 8, grid = 1, weight = 0.5},
                       {kind = "network", blur = 0, weight = 1}]

    A file may add `[dial] stops = N`: then its first and last layouts are the ends of an N-stop dial.
    """
    text = str(name_or_path)
    path = PRESETS / f"{text}.toml" if text in preset_names() else Path(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such recipe file (presets: {', '.join(preset_names())})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the recipe ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML ({exc})") from None
    return parse_recipe(data, str(path), name=path.stem)


def parse_recipe(data: dict, source: str = "recipe", name: str = "custom") -> Recipe:
    """A recipe from decoded TOML (see load_recipe); UserError naming `source` and the first problem."""

    def fail(reason: str):
        raise UserError(f"{source}: {reason}")

    unknown = set(data) - {"layout", "dial"}
    if unknown:
        fail(f"unknown key(s) {', '.join(sorted(unknown))} (a recipe has [[layout]] tables and an optional [dial])")
    entries = data.get("layout")
    if not isinstance(entries, list) or not entries:
        fail("no [[layout]] tables: a recipe lists one or more layouts")
    if len(entries) > MAX_LAYOUTS:
        fail(f"{len(entries)} layouts; a layout file holds at most {MAX_LAYOUTS}")
    layouts = tuple(_layout(entry, f"layout {k + 1}", fail) for k, entry in enumerate(entries))
    names = [layout.name for layout in layouts]
    if len(set(names)) != len(names):
        fail(f"layout names must differ, got {names}")
    recipe = Recipe(layouts, name=name)
    if "dial" in data:
        settings = data["dial"]
        if not isinstance(settings, dict) or set(settings) != {"stops"} or type(settings["stops"]) is not int:
            fail("[dial] takes one key, stops = a whole number")
        try:
            recipe = replace(dial(settings["stops"], recipe), name=name)
        except UserError as exc:
            fail(str(exc))
    return recipe


def _layout(entry: object, where: str, fail) -> LayoutRecipe:
    if not isinstance(entry, dict):
        fail(f"{where} is not a table")
    unknown = set(entry) - {"name", "label", "perplexity", "colour_polish", "ingredients"}
    if unknown:
        fail(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
             "(name, label, perplexity, colour_polish, ingredients)")
    name = entry.get("name")
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        fail(f"{where}: name must be 1 to 40 of a-z, 0-9, '_' and '-' (starting with a letter or digit), "
             f"not {name!r}")
    where = f"layout {name!r}"
    label = entry.get("label", name)
    if not isinstance(label, str) or not 0 < len(label) <= 200:
        fail(f"{where}: label must be a string of 1 to 200 characters")
    perplexity = entry.get("perplexity")
    if perplexity is not None and not (_number(perplexity) and math.isfinite(perplexity) and perplexity > 0):
        fail(f"{where}: perplexity must be a number > 0, not {perplexity!r}")
    polish = entry.get("colour_polish", 0.0)
    if not (_number(polish) and math.isfinite(polish) and 0 <= polish <= MAX_POLISH):
        fail(f"{where}: colour_polish must be a number from 0 to {MAX_POLISH:g}, not {polish!r}")
    ingredients = entry.get("ingredients")
    if not isinstance(ingredients, list) or not ingredients:
        fail(f"{where}: ingredients must be a non-empty list of tables")
    made = tuple(_ingredient(item, f"{where} ingredient {k + 1}", fail) for k, item in enumerate(ingredients))
    if len({i.source for i in made}) != len(made):
        fail(f"{where}: an ingredient is listed twice (same kind, blur and grid)")
    if not any(i.weight > 0 for i in made):
        fail(f"{where}: at least one ingredient needs a weight > 0")
    return LayoutRecipe(name, label, made, None if perplexity is None else float(perplexity), float(polish))


def _ingredient(item: object, where: str, fail) -> Ingredient:
    if not isinstance(item, dict):
        fail(f"{where} is not a table")
    unknown = set(item) - {"kind", "blur", "weight", "grid"}
    if unknown:
        fail(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (kind, blur, weight, grid)")
    kind = item.get("kind")
    if kind not in KINDS:
        fail(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    blur, weight = item.get("blur", 0.0), item.get("weight", 1.0)
    if not (_number(blur) and math.isfinite(blur) and 0 <= blur <= MAX_BLUR):
        fail(f"{where}: blur must be a number from 0 to {MAX_BLUR:g}, not {blur!r}")
    if not (_number(weight) and math.isfinite(weight) and weight >= 0):
        fail(f"{where}: weight must be a number >= 0, not {weight!r}")
    grid = item.get("grid")
    if kind == "colour":
        grid = COLOUR_BLOCKS.grids[0] if grid is None else grid
        if grid not in COLOUR_BLOCKS.grids or type(grid) is not int:
            fail(f"{where}: grid must be one of {', '.join(map(str, COLOUR_BLOCKS.grids))}, not {grid!r}")
    elif grid is not None:
        fail(f"{where}: grid is for colour ingredients only")
    return Ingredient(kind, float(blur), float(weight), grid)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
