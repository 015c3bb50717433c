"""The errors that reach the user as one line instead of a traceback."""


class UserError(Exception):
    """A mistake in the user's input (a path, an option, a file): shown as one line, exit status 2."""

    exit_status = 2


class LayoutFileError(UserError):
    """The layout JSON is missing, unreadable, of another format or version, or breaks the contract."""
