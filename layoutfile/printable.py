"""Text from files (layout fields, file names) made safe to print on a terminal or into a log line."""

from __future__ import annotations

import re

# Bidirectional overrides and isolates reorder the text around them; they are shown escaped like controls.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:   # a byte that is not UTF-8, as os.fsdecode keeps it (PEP 383)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` as a str with control characters (C0, C1, DEL), bidi overrides and lone surrogates (bytes of
    file names that are not UTF-8) written as backslash escapes: one line, no terminal escape codes, and
    always encodable as UTF-8."""
    text = str(text)
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text

