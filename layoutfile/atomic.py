"""Atomic, durable file writes and the cleanup of temporary files that killed writers left behind.

A file is written to a temporary file beside its target, synced to disk, renamed onto the target, and
the folder is synced too: readers (and a machine that loses power) see the old file or the complete new
one. Temporary files are named `.<target name>.tmp-<pid>-<random><suffix>`, so a later run can tell the
ones whose writer has died (`remove_stale_temp_files`). Any OSError (full disk, read-only folder, no
permission) becomes a one-line WriteError naming the target, and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from layoutfile.errors import WriteError

_TEMP_NAME = re.compile(r"\..+\.tmp-(\d+)-[a-z0-9_]+(\.[^./]*)?")


def fsync_file(path: Path) -> None:
    """Flush `path`'s data to the disk (the one place every atomic write syncs: tests inject failures here)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: Path) -> None:
    """Flush `folder`'s entries (a rename into it) to the disk, where the file system supports it."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; when the block ends it is synced and renamed onto `target`.

    On an exception the temporary file is removed and the target is left as it was; an OSError raised while
    writing, syncing or renaming becomes a WriteError naming the target (one about another file, which
    the block was reading, is passed on unchanged). `suffix` defaults to the target's own, so that libraries that pick a format by
    extension (PIL, numpy) still work.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.tmp-{os.getpid()}-",
                                    suffix=suffix or target.suffix, dir=target.parent)
    except OSError as exc:
        raise WriteError(target, exc) from None
    tmp = Path(name)
    try:
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, target)
        fsync_folder(target.parent)
    except OSError as exc:
        if exc.filename not in (None, name, str(target), str(target.parent)):
            raise  # about another file, one the block was reading
        raise WriteError(target, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(target: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `target` atomically and durably."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `target` atomically and durably."""
    write_bytes_atomic(target, text.encode("utf-8"))


def _running(pid: int) -> bool:
    """Whether a process with this id exists on this machine (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Temporary files of `atomic_path` directly in `folder` whose writing process no longer runs."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    stale = []
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match and int(match[1]) != os.getpid() and not _running(int(match[1])) \
                and entry.is_file(follow_symlinks=False):
            stale.append(Path(entry.path))
    return stale


def remove_stale_temp_files(folder: str | os.PathLike, depth: int = 0) -> int:
    """Remove the stale temporary files in `folder` (and its subfolders `depth` levels down); return how many.
    Best effort: a file that cannot be removed is left."""
    removed = 0
    for path in stale_temp_files(folder):
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    if depth > 0:
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                if entry.is_dir(follow_symlinks=False):
                    removed += remove_stale_temp_files(entry.path, depth - 1)
    return removed
