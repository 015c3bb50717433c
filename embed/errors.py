"""The one exception type that reaches the user as a single line instead of a traceback."""


class UserError(Exception):
    """A mistake in the user's input (a path, an option, a file): shown as one line, exit status 2."""
