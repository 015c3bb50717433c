"""Read a JSON file the user named, turning every way it can fail into one line; write strict JSON.

Strict: NaN and Infinity are not JSON (RFC 8259), though Python's json module reads and writes them; here the
reader rejects them and the writer refuses to write them.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from layoutfile.errors import UserError
from layoutfile.regular import read_regular

MAX_JSON_BYTES = 256 * 1024 * 1024   # a 100k-image layout is about 40 MB


def read_json_file(path: str | os.PathLike, kind: str, error: type[UserError] = UserError,
                   missing_hint: str = "", max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Decoded JSON of `path`; raise `error` with one line when it is missing, not a regular file (a FIFO or
    device is refused, never read), unreadable, larger than `max_bytes`, not UTF-8 or not valid JSON
    (including nesting too deep to decode and integers too long to convert)."""
    path = Path(path)
    try:
        text = read_regular(path, max_bytes).decode("utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such {kind} file{missing_hint}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {kind} file ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: cannot read {kind} file (not UTF-8 text: {exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg}); was it written completely?") from None
    except RecursionError:
        raise error(f"{path}: not a usable {kind} file (JSON nested too deeply)") from None
    except ValueError as exc:   # e.g. an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise error(f"{path}: not a usable {kind} file ({exc})") from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a finite number: JSON has no NaN or Infinity")


def strict_json(value: Any, path: str | os.PathLike, **dumps_options: Any) -> str:
    """`json.dumps(value)` refusing NaN and Infinity: UserError naming `path` and where the first one is."""
    try:
        return json.dumps(value, allow_nan=False, **dumps_options)
    except ValueError:
        where = _non_finite_at(value) or "a value"
        raise UserError(f"{path}: not written: {where} is not a finite number (JSON has no NaN or Infinity)") from None


def _non_finite_at(value: Any, where: str = "") -> str | None:
    """The key path (`layouts.blur.metrics.x`, `params.blur_radii[0]`) of the first NaN/Infinity in `value`."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (where or "the document")
    items = (value.items() if isinstance(value, dict)
             else ((f"[{i}]", v) for i, v in enumerate(value)) if isinstance(value, (list, tuple)) else ())
    for key, item in items:
        found = _non_finite_at(item, f"{where}{key}" if str(key).startswith("[") or not where else f"{where}.{key}")
        if found:
            return found
    return None
