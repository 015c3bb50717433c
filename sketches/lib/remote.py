"""Remote control over OSC (UDP) for installations run from a control desk.

A server thread decodes messages into `Command`s and queues them; the sketch takes them with
`poll()` in draw(), so every change to the scene happens on the sketch thread. Addresses:

    /gallery/layout  blur | combined | toggle    switch layout (keeps t-SNE/grid state)
    /gallery/state   tsne | grid | toggle        fly to t-SNE positions or grid cells
    /gallery/loop    play | pause                start/stop the attract loop
    /gallery/next                                skip to the next playlist step
    /gallery/quit                                end the show (exit status 0)

Messages with another address or argument are dropped with a logged warning.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from layoutfile import LAYOUTS, STATES, UserError

log = logging.getLogger(__name__)

TOGGLE = "toggle"
COMMAND_VALUES: dict[str, tuple[str, ...]] = {
    "layout": (*LAYOUTS, TOGGLE),
    "state": (*STATES, TOGGLE),
    "loop": ("play", "pause"),
    "next": (),
    "quit": (),
}
ADDRESS_PREFIX = "/gallery/"


@dataclass(frozen=True)
class Command:
    """One remote command: `name` is layout, state, loop, next or quit; `value` its argument (or None)."""

    name: str
    value: str | None = None


class RemoteControl:
    """OSC server on a background thread; `poll()` returns the commands received since the last poll."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9000):
        self._queue: queue.SimpleQueue[Command] = queue.SimpleQueue()
        dispatcher = Dispatcher()
        for name in COMMAND_VALUES:
            dispatcher.map(ADDRESS_PREFIX + name, self._receive, name)
        dispatcher.set_default_handler(self._unknown)
        try:
            self._server = BlockingOSCUDPServer((host, port), dispatcher)
        except OSError as exc:
            raise UserError(f"OSC {host}:{port}: cannot listen ({exc.strerror or exc})")
        self._thread = threading.Thread(target=self._server.serve_forever, name="osc-server", daemon=True)
        self._thread.start()
        log.info("OSC remote control listening on %s:%d", *self.address)

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the server listens on; the port is the real one when 0 was asked for."""
        return self._server.server_address[:2]

    def poll(self) -> list[Command]:
        """Every command queued since the last call, oldest first (never blocks)."""
        commands = []
        while True:
            try:
                commands.append(self._queue.get_nowait())
            except queue.Empty:
                return commands

    def close(self) -> None:
        """Stop the server thread and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def _receive(self, address: str, bound: list, *args: object) -> None:
        name = bound[0]
        allowed = COMMAND_VALUES[name]
        if not allowed:
            if args:
                log.warning("OSC %s takes no argument, got %r: ignored", address, args)
                return
            self._queue.put(Command(name))
            return
        value = str(args[0]).lower() if len(args) == 1 and isinstance(args[0], str) else None
        if value not in allowed:
            log.warning("OSC %s needs one of %s, got %r: ignored", address, "|".join(allowed), args)
            return
        self._queue.put(Command(name, value))

    def _unknown(self, address: str, *args: object) -> None:
        log.warning("OSC %s %r: unknown address, ignored (see sketches/lib/remote.py)", address, args)
