"""Remote control over OSC (UDP) for installations run from a control desk.

A server thread decodes messages into `Command`s and queues them; the sketch takes them with
`poll()` in draw(), so every change to the scene happens on the sketch thread. Addresses:

    /gallery/layout  NAME | toggle | next | previous   switch layout (keeps t-SNE/grid state); NAME is one
                                                       of the layouts the RemoteControl was given
    /gallery/state   tsne | grid | toggle        fly to t-SNE positions or grid cells
    /gallery/loop    play | pause                start/stop the attract loop
    /gallery/next                                skip to the next playlist step
    /gallery/quit                                end the show (exit status 0)

Addresses are compared as plain strings: OSC address patterns (`*`, `?`, `[]`, `{}`) are not expanded,
so an address holding any of `*?[]{}!,` is dropped with a warning before any handler is looked up (python-osc
turns each `*` into a regex that can backtrack for minutes, holding the interpreter lock; and
`/gallery/q*` would match `/gallery/quit`). Messages with another address or argument are dropped with a
logged warning; packets that are not OSC or cannot be decoded are dropped the same way, never with a
traceback. Bundles are handled at once, whatever their timetag. At most QUEUE_SIZE commands wait for the sketch: in a flood the oldest are
dropped (the latest commands win). Warnings are logged at most WARNINGS_PER_WINDOW per WARNING_WINDOW
seconds; the ones left out are counted in the next.
"""

from __future__ import annotations

import collections
import logging
import reprlib
import threading
import time
from dataclasses import dataclass

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from layoutfile import LAYOUTS, STATES, UserError, printable

log = logging.getLogger(__name__)

TOGGLE, NEXT, PREVIOUS = "toggle", "next", "previous"
LAYOUT_STEPS = (TOGGLE, NEXT, PREVIOUS)   # /gallery/layout values that name no layout; they win over a layout's name
COMMANDS = ("layout", "state", "loop", "next", "quit")
ADDRESS_PREFIX = "/gallery/"
PATTERN_CHARACTERS = frozenset("*?[]{}!,")   # OSC address-pattern syntax: never expanded here
QUEUE_SIZE = 256
WARNINGS_PER_WINDOW = 20
WARNING_WINDOW = 10.0


@dataclass(frozen=True)
class Command:
    """One remote command: `name` is layout, state, loop, next or quit; `value` its argument (or None)."""

    name: str
    value: str | None = None


class _Warnings:
    """log.warning, at most `most` lines per `window` seconds; the lines left out are counted in the next one."""

    def __init__(self, most: int = WARNINGS_PER_WINDOW, window: float = WARNING_WINDOW):
        self.most, self.window = most, window
        self._lock = threading.Lock()
        self._window_start, self._in_window, self._left_out = float("-inf"), 0, 0

    def __call__(self, message: str, *args: object) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= self.window:
                self._window_start, self._in_window = now, 0
            self._in_window += 1
            if self._in_window > self.most:
                self._left_out += 1
                return
            left_out, self._left_out = self._left_out, 0
        if left_out:
            message += f" ({left_out} similar warnings left out)"
        log.warning(message, *args)


class _SafeDispatcher(Dispatcher):
    """python-osc's dispatcher without its hazards: an address is looked up as a plain string (python-osc
    expands OSC patterns into regexes that can backtrack for minutes), a packet it cannot decode (e.g. a
    string that is not UTF-8) raises from the server thread, and a bundle timed in the future blocks that
    thread until then."""

    def __init__(self, warn: _Warnings):
        super().__init__(strict_timing=False)
        self._warn = warn

    def handlers_for_address(self, address_pattern: str):
        """The handlers mapped to exactly `address_pattern`, else the default handler; none for a pattern."""
        if not PATTERN_CHARACTERS.isdisjoint(address_pattern):
            self._warn("OSC %s: address patterns are not accepted, ignored", printable(address_pattern[:100]))
            return []
        handlers = self._map.get(address_pattern)
        if handlers:
            return list(handlers)
        return [] if self._default_handler is None else [self._default_handler]

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list:
        try:
            return super().call_handlers_for_packet(data, client_address)
        except Exception as exc:
            self._warn("OSC packet from %s ignored: cannot decode it (%s)", client_address[0], type(exc).__name__)
            return []


class _SafeServer(BlockingOSCUDPServer):
    """The OSC UDP server, logging one line (not a traceback) for a packet that is not OSC or fails."""

    def __init__(self, address: tuple[str, int], dispatcher: _SafeDispatcher, warn: _Warnings):
        self._warn = warn
        super().__init__(address, dispatcher)

    def verify_request(self, request, client_address) -> bool:
        if super().verify_request(request, client_address):
            return True
        self._warn("packet from %s ignored: not an OSC message or bundle", client_address[0])
        return False

    def handle_error(self, request, client_address) -> None:
        self._warn("OSC packet from %s ignored: it failed", client_address[0])


class RemoteControl:
    """OSC server on a background thread; `poll()` returns the commands received since the last poll.

    `layouts` are the names `/gallery/layout NAME` accepts (besides toggle, next and previous); set the
    attribute when the shown layout file changes.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 9000, layouts: tuple[str, ...] = LAYOUTS):
        self.layouts = tuple(layouts)
        self._queue: collections.deque[Command] = collections.deque(maxlen=QUEUE_SIZE)
        self._warn = _Warnings()
        dispatcher = _SafeDispatcher(self._warn)
        for name in COMMANDS:
            dispatcher.map(ADDRESS_PREFIX + name, self._receive, name)
        dispatcher.set_default_handler(self._unknown)
        try:
            self._server = _SafeServer((host, port), dispatcher, self._warn)
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
                commands.append(self._queue.popleft())
            except IndexError:
                return commands

    def close(self) -> None:
        """Stop the server thread and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def _put(self, command: Command) -> None:
        if len(self._queue) == QUEUE_SIZE:
            self._warn("OSC commands arrive faster than the sketch takes them: dropped the oldest of %d", QUEUE_SIZE)
        self._queue.append(command)   # a full deque drops its oldest entry

    def allowed(self, name: str) -> tuple[str, ...]:
        """The values command `name` takes (none: it takes no argument)."""
        return {"layout": (*self.layouts, *LAYOUT_STEPS), "state": (*STATES, TOGGLE),
                "loop": ("play", "pause")}.get(name, ())

    def _receive(self, address: str, bound: list, *args: object) -> None:
        name = bound[0]
        allowed = self.allowed(name)
        if not allowed:
            if args:
                self._warn("OSC %s takes no argument, got %s: ignored", address, reprlib.repr(args))
                return
            self._put(Command(name))
            return
        value = str(args[0]).lower() if len(args) == 1 and isinstance(args[0], str) else None
        if value not in allowed:
            self._warn("OSC %s needs one of %s, got %s: ignored", address, printable("|".join(allowed))[:200],
                       reprlib.repr(args))
            return
        self._put(Command(name, value))

    def _unknown(self, address: str, *args: object) -> None:
        self._warn("OSC %s %s: unknown address, ignored (see sketches/lib/remote.py)", printable(address[:100]),
                   reprlib.repr(args))
