"""Stopping a sketch from outside: SIGTERM (service managers, `kill`) and SIGINT (Ctrl-C) end it cleanly.

The sketch is asked to exit as its own quit would (its `exiting()` runs, the installation logs that it
stopped) and the program exits 0, without a traceback. A second signal, if the sketch does not end, exits
at once. `exit_now` ends the process once the sketch is over, without the interpreter's and the JVM's
teardown: JOGL's shutdown of a window already closed could crash the process (exit 139) after its work
was done.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Any, NoReturn

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopOnSignal:
    """SIGTERM/SIGINT handlers (main thread): before `attach` a signal exits 0 at once, after it the sketch
    is asked to exit."""

    def __init__(self) -> None:
        self.sketch: Any = None
        self.received: str | None = None
        self._install()

    def _install(self) -> None:
        for number in SIGNALS:
            signal.signal(number, self._handle)

    def attach(self, sketch: Any) -> None:
        """Stop `sketch` on a signal. Call once Java runs: the JVM puts in its own handlers when it starts."""
        self.sketch = sketch
        self._install()

    def _handle(self, number: int, _frame: Any) -> None:
        name = signal.Signals(number).name
        if self.received is not None or self.sketch is None:
            log.info("%s: stopped", name)
            exit_now(0)
        self.received = name
        log.info("%s: stopping", name)
        self.sketch.exit_sketch()


def exit_now(status: int) -> NoReturn:
    """Flush the log and the output streams, then end the process with `status`."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
