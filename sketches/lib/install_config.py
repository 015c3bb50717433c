"""The installation config file (`gallery.py --install CONFIG.json`): one table of its keys.

Each field of `InstallConfig` is one key: its type, its default, what a valid value is and what it
does. Loading, checking, the defaults and the README's table (`config_table`) all come from it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layoutfile import UserError


def _as_given(value: Any, folder: Path) -> Any:
    return value


def _relative_path(value: str | None, folder: Path) -> Path | None:
    """A file path from the config, relative to the config file's folder."""
    return None if value is None else folder / value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


@dataclass(frozen=True)
class Rule:
    """What one config key accepts, and how a value from the file is stored."""

    expected: str                                 # a valid value in words, for errors and the README
    accepts: Callable[[Any], bool]
    meaning: str                                  # what the key does, for the README
    store: Callable[[Any, Path], Any] = _as_given   # (value, the config file's folder) → stored value


def config_key(default: Any, expected: str, accepts: Callable[[Any], bool], meaning: str,
               store: Callable[[Any, Path], Any] = _as_given) -> Any:
    """One key of the table: a dataclass field with `default` whose metadata holds its Rule."""
    return field(default=default, metadata={"rule": Rule(expected, accepts, meaning, store)})


def seconds_key(default: float, meaning: str) -> Any:
    """A key holding a number of seconds > 0 (stored as a float)."""
    return config_key(default, "seconds > 0", lambda v: (_whole(v) or isinstance(v, float)) and v > 0, meaning,
                      lambda value, folder: float(value))


@dataclass
class InstallConfig:
    """Installation mode's settings; every key of the config file is optional."""

    display: int = config_key(1, "a whole number >= 1", lambda v: _whole(v) and v >= 1,
                              "py5 full-screen display (1 = primary)")
    playlist: Path | None = config_key(None, "a file path or null", lambda v: v is None or _text(v),
                                       "attract-loop playlist (null: every layout of the file in turn)",
                                       _relative_path)
    idle_seconds: float = seconds_key(30.0, "a visitor's idle time before the loop resumes")
    osc_host: str = config_key("127.0.0.1", "a host name or address", _text,
                               "address the OSC server listens on (0.0.0.0: also a control desk on another machine)")
    osc_port: int | None = config_key(9000, "a UDP port (0-65535) or null",
                                      lambda v: v is None or (_whole(v) and 0 <= v <= 65535),
                                      "OSC remote control port (null: no remote control)")
    log_file: Path = config_key(Path("gallery.log"), "a file path", _text,
                                "log of start-up facts, fps and memory (appended)", _relative_path)
    reload_interval: float = seconds_key(1.0, "seconds between checks of the layout file")
    fps_log_interval: float = seconds_key(60.0, "seconds between fps and memory log lines")


KEYS: dict[str, Rule] = {f.name: f.metadata["rule"] for f in dataclasses.fields(InstallConfig)}


def load_install_config(path: str | os.PathLike | None) -> InstallConfig:
    """Defaults, overridden by the keys of a JSON config file when `path` is given."""
    if path is None:
        return InstallConfig()
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such installation config file")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read installation config ({exc})")
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})")
    if not isinstance(data, dict):
        raise UserError(f"{path}: installation config must be a JSON object")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise UserError(f"{path}: unknown installation config key(s) {', '.join(unknown)} "
                        f"(known: {', '.join(KEYS)})")
    values = {}
    for name, value in data.items():
        rule = KEYS[name]
        if not rule.accepts(value):
            raise UserError(f"{path}: '{name}' must be {rule.expected}, not {value!r}")
        values[name] = rule.store(value, path.parent)
    return InstallConfig(**values)


def config_table() -> str:
    """The config keys as a Markdown table (README.md shows it)."""
    rows = ["| key | default | value | what it does |", "|---|---|---|---|"]
    for f in dataclasses.fields(InstallConfig):
        default = json.dumps(str(f.default) if isinstance(f.default, Path) else f.default)
        rows.append(f"| `{f.name}` | `{default}` | {KEYS[f.name].expected} | {KEYS[f.name].meaning} |")
    return "\n".join(rows)
