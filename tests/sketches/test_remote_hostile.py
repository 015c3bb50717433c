"""The OSC server under hostile input (real UDP on 127.0.0.1): garbage packets are dropped with a logged line,
never a traceback; a bundle timed far in the future does not stall the server; an address pattern is never
expanded (one packet of 80 `*` used to backtrack for minutes); a flood keeps at most QUEUE_SIZE commands,
the newest."""

from __future__ import annotations

import logging
import socket
import struct
import time

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from sketches.lib.remote import QUEUE_SIZE, WARNINGS_PER_WINDOW, Command, RemoteControl


def padded(data: bytes) -> bytes:
    return data + b"\0" * (4 - len(data) % 4)


def message(address: str, *args: str) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def bundle(timetag: int, *contents: bytes) -> bytes:
    return b"#bundle\0" + struct.pack(">Q", timetag) + b"".join(struct.pack(">I", len(c)) + c for c in contents)


GARBAGE = [
    b"",
    b"hello, not OSC",
    b"\xff" * 64,
    b"/gallery/state",                                              # no type tags, not padded
    padded(b"/gallery/\xff\xfe") + padded(b",s") + padded(b"grid"),  # address not UTF-8
    padded(b"/gallery/state") + padded(b",s") + padded(b"\xc3\x28"),  # argument not UTF-8
    padded(b"/gallery/state") + padded(b",b") + struct.pack(">I", 0x7FFFFFFF),  # blob longer than the packet
    padded(b"/gallery/state") + padded(b",[[[[[["),
    padded(b"/gallery/state") + padded(b",i"),                       # an int with no bytes
    b"#bundle\0\x00",                                                # truncated bundle
    bundle(1, struct.pack(">I", 999)),                               # bundle element longer than the bundle
    bundle(1, b"\x01\x02\x03\x04"),                                  # bundle of neither messages nor bundles
]


@pytest.fixture
def remote():
    server = RemoteControl("127.0.0.1", 0)
    yield server
    server.close()


def collect(remote: RemoteControl, count: int, timeout: float = 10.0) -> list[Command]:
    received: list[Command] = []
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        received += remote.poll()
        time.sleep(0.01)
    return received


def test_garbage_packets_are_dropped_without_a_traceback(remote, capfd, caplog):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, caplog.at_level(logging.WARNING):
        for packet in GARBAGE:
            sock.sendto(packet, remote.address)
        sock.sendto(bundle(0xFFFFFFFF_FFFFFFFF, message("/gallery/layout", "combined")), remote.address)  # year 2036
        sock.sendto(message("/gallery/state", "grid"), remote.address)
        assert collect(remote, 2) == [Command("layout", "combined"), Command("state", "grid")]
    assert "Traceback" not in capfd.readouterr().err
    logged = [r.getMessage() for r in caplog.records if r.name == "sketches.lib.remote"]
    assert any("cannot decode it (UnicodeDecodeError)" in line for line in logged)
    assert any("not an OSC message or bundle" in line for line in logged)


def test_a_flood_keeps_only_the_newest_commands_and_few_log_lines(remote, caplog):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, caplog.at_level(logging.WARNING):
        blur, combined = message("/gallery/layout", "blur"), message("/gallery/layout", "combined")
        for i in range(5000):
            sock.sendto(blur if i < 1000 else combined, remote.address)
        time.sleep(2)   # let the server thread take everything that arrived
        commands = remote.poll()
    assert len(commands) == QUEUE_SIZE and set(commands) == {Command("layout", "combined")}
    logged = [r.getMessage() for r in caplog.records if r.name == "sketches.lib.remote"]
    assert 1 <= len(logged) <= WARNINGS_PER_WINDOW and "dropped the oldest of 256" in logged[0]


def test_an_address_pattern_is_dropped_at_once_and_never_matches(remote, caplog):
    client = SimpleUDPClient(*remote.address)
    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        client.send_message("/gallery/" + "*" * 80 + "x", [])      # python-osc's regex backtracked on this for minutes
        client.send_message("/gallery/q*", [])                      # would match /gallery/quit
        client.send_message("/gallery/{quit,next}", [])
        client.send_message("/gallery/state", "grid")               # a good one after them
        assert collect(remote, 1, timeout=2.0) == [Command("state", "grid")]
        elapsed = time.monotonic() - started
    assert elapsed < 1.0
    time.sleep(0.1)
    assert remote.poll() == []                                      # nothing quits, nothing skips
    logged = [r.getMessage() for r in caplog.records if r.name == "sketches.lib.remote"]
    assert len(logged) == 3 and all("address patterns are not accepted" in line for line in logged)
    assert logged[0].startswith("OSC /gallery/****")


def test_layout_names_are_the_ones_given_plus_toggle_next_previous(caplog):
    remote = RemoteControl("127.0.0.1", 0, layouts=("warm", "cool", "night-2"))
    try:
        client = SimpleUDPClient(*remote.address)
        with caplog.at_level(logging.WARNING):
            for value in ("night-2", "previous", "blur", "NEXT", "toggle"):
                client.send_message("/gallery/layout", value)
            received = collect(remote, 4, timeout=5.0)
        assert received == [Command("layout", "night-2"), Command("layout", "previous"), Command("layout", "next"),
                            Command("layout", "toggle")]
        assert any("needs one of warm|cool|night-2|toggle|next|previous, got ('blur',)" in r.getMessage()
                   for r in caplog.records)
        remote.layouts = ("blur",)                                  # the shown file changed
        client.send_message("/gallery/layout", "blur")
        assert collect(remote, 1) == [Command("layout", "blur")]
    finally:
        remote.close()
