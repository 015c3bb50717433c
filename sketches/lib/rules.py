"""Settings as tables: each dataclass field holds a Rule (what a valid value is, what the key does).

install_config.py (the installation config file) and look.py (the artist's choices, from the config
file and the gallery's command line) describe their keys this way; loading, checking, the command-line
options and the README's table all come from the one table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layoutfile import UserError


def _as_given(value: Any, folder: Path) -> Any:
    return value


def whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def number(value: Any) -> bool:
    return (whole(value) or isinstance(value, float)) and value == value and abs(value) != float("inf")


def text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


@dataclass(frozen=True)
class Rule:
    """What one key accepts, and how a value from the file (or the command line) is stored."""

    expected: str                                 # a valid value in words, for errors and the README
    accepts: Callable[[Any], bool]
    meaning: str                                  # what the key does, for the README
    store: Callable[[Any, Path], Any] = _as_given   # (value, the config file's folder) → stored value
    parse: Callable[[str], Any] = str             # command-line text → a value as JSON would give it


def config_key(default: Any, expected: str, accepts: Callable[[Any], bool], meaning: str,
               store: Callable[[Any, Path], Any] = _as_given, parse: Callable[[str], Any] = str) -> Any:
    """One key of a table: a dataclass field with `default` whose metadata holds its Rule."""
    return field(default=default, metadata={"rule": Rule(expected, accepts, meaning, store, parse)})


def seconds_key(default: float, meaning: str) -> Any:
    """A key holding a number of seconds > 0 (stored as a float)."""
    return config_key(default, "seconds > 0", lambda v: number(v) and v > 0, meaning,
                      lambda value, folder: float(value), float)


def rules(table: type) -> dict[str, Rule]:
    """The Rules of a table dataclass, by key."""
    return {f.name: f.metadata["rule"] for f in dataclasses.fields(table) if "rule" in f.metadata}


def checked(table: type, data: dict, source: str | None, folder: Path = Path("."),
            label: Callable[[str], str] = "'{}'".format) -> dict:
    """`data`'s keys checked against `table`'s rules and stored; UserError naming `source` (if any) and the
    key (as `label` writes it) if not."""
    keys = rules(table)
    values = {}
    for name, value in data.items():
        rule = keys[name]
        if not rule.accepts(value):
            where = f"{source}: " if source else ""
            raise UserError(f"{where}{label(name)} must be {rule.expected}, not {value!r}")
        values[name] = rule.store(value, folder)
    return values


def table_rows(table: type, show: Callable[[Any], str]) -> list[str]:
    """Markdown rows (key, default, value, what it does) of a table dataclass; `show` writes a default."""
    keys = rules(table)
    return [f"| `{f.name}` | `{show(f.default)}` | {keys[f.name].expected} | {keys[f.name].meaning} |"
            for f in dataclasses.fields(table) if f.name in keys]
