"""Open only regular files: a FIFO, device or socket where a file is expected is an error, never a hang."""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class NotRegularFileError(OSError):
    """The path names something other than a regular file (after following symlinks)."""


def _check_regular(mode: int, path: str | os.PathLike) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a file")
        raise NotRegularFileError(errno.EINVAL, f"not a regular file ({kind})", os.fspath(path))


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """Open `path` for binary reading if it is a regular file (symlinks followed); raise OSError otherwise.

    The file type is checked before opening (opening some devices has side effects) and again on the open
    descriptor, which is opened non-blocking so that a FIFO swapped in between cannot block the open.
    """
    _check_regular(os.stat(path).st_mode, path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        _check_regular(os.fstat(fd).st_mode, path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of regular file `path`; OSError (EFBIG) when it holds more than `max_bytes`."""
    with open_regular(path) as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OSError(errno.EFBIG, f"larger than {max_bytes:,} bytes", os.fspath(path))
    return data
