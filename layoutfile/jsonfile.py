"""Read a JSON file the user named, turning every way it can fail into one line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from layoutfile.errors import UserError


def read_json_file(path: str | os.PathLike, kind: str, error: type[UserError] = UserError,
                   missing_hint: str = "") -> Any:
    """Decoded JSON of `path`; raise `error` ('PATH: no such KIND file', unreadable, invalid JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such {kind} file{missing_hint}")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {kind} file ({exc})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg}); was it written completely?")
