"""One build per output at a time: an exclusive `flock` on `.<OUT.json>.lock` beside the output.

The lock is held from before the up-to-date check until the layout JSON is replaced and old sheets are
removed; the lock file holds the holder's pid so that a second build can say whom it waits for. The file
stays (removing a lock file races with its next user); the kernel releases the lock when its holder
exits, however it ends (kill -9 included).
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from layoutfile import UserError, WriteError


class BuildBusy(UserError):
    """Another build is writing the same output and the caller chose not to wait."""

    exit_status = 75   # EX_TEMPFAIL: try again later


def lock_path(output: Path) -> Path:
    """The lock file of `output`: hidden, beside it."""
    return output.parent / f".{output.name}.lock"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextmanager
def build_lock(output: Path, wait: bool = True, notify: Callable[[str], None] = _say) -> Iterator[None]:
    """Hold the build lock of `output` for the block. If another build holds it: with `wait`, tell `notify`
    "another build is writing OUT (pid N); waiting…" and wait; without, raise BuildBusy."""
    path = lock_path(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, mode = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666), "r+"
    except OSError as exc:
        try:   # a read-only folder: the lock (flock works read-only) still serves an up-to-date check
            fd, mode = os.open(path, os.O_RDONLY | os.O_CLOEXEC), "r"
        except OSError:
            raise WriteError(path, exc) from None
    with os.fdopen(fd, mode) as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy = f"another build is writing {output} (pid {_holder(file)})"
            if not wait:
                raise BuildBusy(f"{busy}; not waiting (--no-wait)") from None
            notify(f"{busy}; waiting…")
            fcntl.flock(file, fcntl.LOCK_EX)
        try:
            file.seek(0)
            file.truncate()
            file.write(f"{os.getpid()}\n")
            file.flush()
        except OSError:
            pass  # the pid is for messages only (and a read-only lock file cannot take it)
        yield


def _holder(file) -> str:
    """The pid the lock's holder wrote, or '?'."""
    try:
        file.seek(0)
        text = file.read(32).strip()
    except (OSError, UnicodeDecodeError):
        return "?"
    return text if text.isdigit() else "?"
