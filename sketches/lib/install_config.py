"""The installation config file (`gallery.py --install CONFIG.json`): one table of its keys.

Each field of `InstallConfig` is one key: its type, its default, what a valid value is and what it
does (rules.py); the keys of look.Look (background, motion, start picture, title) are keys of the same
file. Loading, checking, the defaults and the README's table (`config_table`) all come from the tables.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layoutfile import UserError

from .look import KEYS as LOOK_KEYS
from .look import Look, make_look
from .rules import checked, config_key, rules, seconds_key, table_rows, text, whole


def _relative_path(value: str | None, folder: Path) -> Path | None:
    """A file path from the config, relative to the config file's folder."""
    return None if value is None else folder / value


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


@dataclass
class InstallConfig:
    """Installation mode's settings; every key of the config file is optional."""

    display: int = config_key(1, "a whole number >= 1", lambda v: whole(v) and v >= 1,
                              "py5 full-screen display (1 = primary)")
    playlist: Path | None = config_key(None, "a file path or null", lambda v: v is None or text(v),
                                       "attract-loop playlist (null: every layout of the file in turn)",
                                       _relative_path)
    idle_seconds: float = seconds_key(30.0, "a visitor's idle time before the loop resumes")
    osc_host: str = config_key("127.0.0.1", "a host name or address", text,
                               "address the OSC server listens on (0.0.0.0: also a control desk on another machine)")
    osc_port: int | None = config_key(9000, "a UDP port (0-65535) or null",
                                      lambda v: v is None or (whole(v) and 0 <= v <= 65535),
                                      "OSC remote control port (null: no remote control)")
    log_file: Path = config_key(Path("gallery.log"), "a file path", text,
                                "log of start-up facts, fps and memory (appended)", _relative_path)
    reload_interval: float = seconds_key(1.0, "seconds between checks of the layout file")
    fps_log_interval: float = seconds_key(60.0, "seconds between fps and memory log lines")
    hover: bool = config_key(True, "true or false", _flag,
                             "a visitor's pointer over an image shows it enlarged (false: never)")
    captions: bool = config_key(True, "true or false", _flag, "the enlarged image shows its file name (false: never)")
    look: Look = field(default_factory=Look)     # the Look keys of the file (look.py)


KEYS = rules(InstallConfig)


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
    unknown = sorted(set(data) - set(KEYS) - set(LOOK_KEYS))
    if unknown:
        raise UserError(f"{path}: unknown installation config key(s) {', '.join(unknown)} "
                        f"(known: {', '.join([*KEYS, *LOOK_KEYS])})")
    values = checked(InstallConfig, {k: v for k, v in data.items() if k in KEYS}, str(path), path.parent)
    look = make_look({k: v for k, v in data.items() if k in LOOK_KEYS}, str(path))
    return InstallConfig(**values, look=look)


def config_table() -> str:
    """The config keys as a Markdown table (README.md shows it)."""
    def show(default: Any) -> str:
        return json.dumps(str(default) if isinstance(default, Path) else default)

    rows = ["| key | default | value | what it does |", "|---|---|---|---|"]
    return "\n".join([*rows, *table_rows(InstallConfig, show), *table_rows(Look, show)])
