"""The errors that reach the user as one line instead of a traceback."""

from __future__ import annotations

import os


class UserError(Exception):
    """A mistake in the user's input (a path, an option, a file): shown as one line, exit status 2."""

    exit_status = 2


class LayoutFileError(UserError):
    """The layout JSON is missing, unreadable, of another format or version, or breaks the contract."""


class WriteError(UserError):
    """A file could not be written (full disk, read-only folder, no permission); nothing already there changed."""

    def __init__(self, path: str | os.PathLike, error: OSError):
        super().__init__(f"{path}: cannot write ({error.strerror or error})")
        self.path = str(path)
        self.errno = error.errno
