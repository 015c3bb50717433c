"""Installation mode: OSC remote control (real UDP on 127.0.0.1), hot reload, config, log file, keys that
cannot end the show, and stopping cleanly (real processes, real signals)."""

import json
import logging
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pythonosc.udp_client import SimpleUDPClient

from layoutfile import VERSION, UserError, read_layout, write_layout
from sketches.lib.install_config import InstallConfig, config_table, load_install_config
from sketches.lib.installation import Installation, setup_logging
from sketches.lib.reload import LayoutWatcher
from sketches.lib.remote import Command, RemoteControl
from tests.sketches.conftest import ROOT
from tests.sketches.own_process import in_own_process

GALLERY = ROOT / "sketches" / "gallery.py"

def variant(layout_path: Path, keep: int) -> None:
    """Rewrite the layout file atomically, like a new embed run, with only the first `keep` images."""
    doc = read_layout(layout_path)
    doc["images"] = doc["images"][:keep]
    for layout in doc["layouts"].values():
        layout["tsne"], layout["grid"] = layout["tsne"][:keep], layout["grid"][:keep]
    write_layout(layout_path, doc)


def wait_for(condition, timeout: float = 5.0):
    """Poll `condition()` until it returns something truthy; return that (or fail after `timeout` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.01)
    pytest.fail("condition not met in time")


@pytest.fixture
def remote():
    server = RemoteControl("127.0.0.1", 0)
    yield server
    server.close()


def test_osc_messages_become_commands_in_order(remote):
    client = SimpleUDPClient(*remote.address)
    client.send_message("/gallery/layout", "combined")
    client.send_message("/gallery/state", "GRID")
    client.send_message("/gallery/layout", "toggle")
    client.send_message("/gallery/loop", "pause")
    client.send_message("/gallery/next", [])
    client.send_message("/gallery/loop", "play")
    received = []
    wait_for(lambda: received.extend(remote.poll()) or len(received) == 6)
    assert received == [Command("layout", "combined"), Command("state", "grid"), Command("layout", "toggle"),
                        Command("loop", "pause"), Command("next"), Command("loop", "play")]
    assert remote.poll() == []


def test_bad_osc_messages_are_logged_and_dropped(remote, caplog):
    client = SimpleUDPClient(*remote.address)
    with caplog.at_level(logging.WARNING):
        client.send_message("/gallery/layout", "colour")
        client.send_message("/gallery/state", 3)
        client.send_message("/gallery/next", "now")
        client.send_message("/gallery/zoom", 2.0)
        client.send_message("/gallery/state", "tsne")          # a good one after the bad ones
        assert wait_for(remote.poll) == [Command("state", "tsne")]
    messages = "\n".join(r.getMessage() for r in caplog.records)
    assert "/gallery/layout needs one of blur|combined|toggle|next|previous, got ('colour',)" in messages
    assert "/gallery/state needs one of tsne|grid|toggle, got (3,)" in messages
    assert "/gallery/next takes no argument" in messages
    assert "/gallery/zoom (2.0,): unknown address" in messages


def test_osc_port_in_use_is_a_user_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=f"OSC 127.0.0.1:{port}: cannot listen"):
            RemoteControl("127.0.0.1", port)


def poll_until_settled(watcher: LayoutWatcher, start: float) -> tuple[dict | None, float]:
    """Poll like draw() would (advancing `now` by the interval) until the watcher has no read pending."""
    now = start
    result = watcher.poll(now)
    while result is None and watcher._pending is not None:
        time.sleep(0.01)
        now += 0.01
        result = watcher.poll(now)
    return result, now


def test_watcher_reloads_a_replaced_layout_and_rejects_broken_ones(layout_path, caplog):
    path = layout_path
    watcher = LayoutWatcher(path, interval=1.0)
    try:
        assert watcher.poll(0.0) is None                      # unchanged
        variant(path, keep=3)                                  # a new embed run: 3 images
        assert watcher.poll(0.5) is None                      # not checked again before the interval
        doc, now = poll_until_settled(watcher, 1.0)
        assert doc is not None and len(doc["images"]) == 3
        assert watcher.poll(now + 5) is None                  # read once only

        good_text = path.read_text()
        with caplog.at_level(logging.ERROR):
            path.write_text(good_text[: len(good_text) // 2])  # a writer caught half-way
            doc, now = poll_until_settled(watcher, now + 10)
            assert doc is None
            path.write_text(good_text.replace(f'"version":{VERSION}', '"version":7'))
            doc, now = poll_until_settled(watcher, now + 10)
            assert doc is None
            sheet = path.parent / "atlas" / "32" / "000.png"
            sheet_bytes = sheet.read_bytes()
            sheet.unlink()
            path.write_text(good_text + " ")
            doc, now = poll_until_settled(watcher, now + 10)
            assert doc is None
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 3
        assert all(e.startswith("layout reload rejected, keeping the current layout") for e in errors)
        assert "not valid JSON" in errors[0] and "version 7" in errors[1] and "atlas sheet missing" in errors[2]

        sheet.write_bytes(sheet_bytes)
        path.write_text(good_text)                            # complete again: accepted
        doc, _ = poll_until_settled(watcher, now + 10)
        assert doc is not None and len(doc["images"]) == 3
    finally:
        watcher.close()


def test_install_config_defaults_paths_and_errors(tmp_path):
    assert load_install_config(None) == InstallConfig()
    config_file = tmp_path / "show" / "install.json"
    config_file.parent.mkdir()
    config_file.write_text(json.dumps({"display": 2, "playlist": "night.json", "idle_seconds": 12,
                                       "osc_port": None, "log_file": "logs/gallery.log"}))
    config = load_install_config(config_file)
    assert config.display == 2 and config.idle_seconds == 12.0 and config.osc_port is None
    assert config.playlist == tmp_path / "show" / "night.json"
    assert config.log_file == tmp_path / "show" / "logs" / "gallery.log"
    for data, message in [({"fullscreen": True}, "unknown installation config key(s) fullscreen"),
                          ({"idle_seconds": -1}, "'idle_seconds' must be seconds > 0, not -1"),
                          ({"osc_port": 70000}, "'osc_port' must be a UDP port"),
                          ({"display": 0}, "'display' must be a whole number >= 1"),
                          ({"log_file": 3}, "'log_file' must be a file path, not 3")]:
        config_file.write_text(json.dumps(data))
        with pytest.raises(UserError, match=re.escape(message)):
            load_install_config(config_file)
    every_key = {"display": 1, "playlist": None, "idle_seconds": 5, "osc_host": "0.0.0.0", "osc_port": 9001,
                 "log_file": "g.log", "reload_interval": 0.5, "fps_log_interval": 30}
    config_file.write_text(json.dumps(every_key))
    assert load_install_config(config_file) == InstallConfig(
        1, None, 5.0, "0.0.0.0", 9001, tmp_path / "show" / "g.log", 0.5, 30.0)
    config_file.write_text("{")
    with pytest.raises(UserError, match="install.json: not valid JSON"):
        load_install_config(config_file)


def test_readme_shows_the_config_table():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert config_table() in readme


def test_setup_logging_appends_to_the_log_file(tmp_path):
    log_file = tmp_path / "logs" / "gallery.log"
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        setup_logging(log_file)
        logging.getLogger("sketches.lib.installation").info("hello from the test")
    finally:
        for handler in set(root.handlers) - set(before):
            handler.close()
            root.removeHandler(handler)
    assert "INFO sketches.lib.installation: hello from the test" in log_file.read_text()


SHIFT, CTRL = 1, 2   # processing.event.Event modifier bits


def post_key(sketch, char: str, code: int | None = None, modifiers: int = 0) -> None:
    """Deliver a key press to the running sketch as a visitor's keyboard would."""
    import jpype

    key_event = jpype.JClass("processing.event.KeyEvent")
    sketch._instance.postEvent(key_event(None, int(time.time() * 1000), key_event.PRESS, modifiers, jpype.JChar(char),
                                         ord(char) if code is None else code, False))


def post_mouse_move(sketch, x: float, y: float) -> None:
    import jpype

    mouse_event = jpype.JClass("processing.event.MouseEvent")
    sketch._instance.postEvent(mouse_event(None, int(time.time() * 1000), mouse_event.MOVE, 0, int(x), int(y), 0, 0))


class FakeScene:
    """What Installation needs of a Scene, without Java: the document, the target, and the moves it was given."""

    def __init__(self, doc: dict):
        self.doc, self.layout, self.state, self.moves = doc, next(iter(doc["layouts"])), "tsne", []

    def go_to(self, layout, state, now, duration=None, easing="cubic-in-out"):
        self.layout, self.state = layout, state
        self.moves.append((layout, state))

    def jump_to(self, layout, state):
        self.go_to(layout, state, 0.0)

    def replace_layout(self, doc, fit=False):
        self.doc = doc
        if self.layout not in doc["layouts"]:
            self.layout = next(iter(doc["layouts"]))


def three_layouts(names=("colour", "mid", "objects")) -> dict:
    return {"layouts": {name: {} for name in names}}


def test_layout_commands_step_through_the_files_layouts_and_reloads_bring_new_ones(tmp_path):
    installation = Installation(InstallConfig(osc_port=None, log_file=tmp_path / "g.log"), tmp_path / "x.json",
                                ("colour", "mid", "objects"))
    assert [(s.layout, s.state) for s in installation.player.playlist.steps][::2] == [
        ("colour", "tsne"), ("mid", "grid"), ("objects", "tsne")]          # no playlist: every layout in turn
    scene = installation.scene = FakeScene(three_layouts())
    for value, expected in [("next", "mid"), ("next", "objects"), ("toggle", "colour"), ("previous", "objects"),
                            ("mid", "mid"), ("gone", "mid")]:
        installation.apply(Command("layout", value), 1.0)
        assert scene.layout == expected, value
    installation.reload(three_layouts(("a", "b")))                      # a new file with other layouts
    assert [s.layout for s in installation.player.playlist.steps] == ["a", "a", "b", "b"]
    assert scene.layout == "a"
    installation.apply(Command("layout", "next"), 2.0)
    assert scene.layout == "b"


def test_a_reload_without_the_playlists_layouts_keeps_the_current_file(tmp_path, caplog):
    (tmp_path / "show.json").write_text(json.dumps({"steps": [{"layout": "mid", "state": "grid"}]}))
    config = InstallConfig(osc_port=None, log_file=tmp_path / "g.log", playlist=tmp_path / "show.json")
    installation = Installation(config, tmp_path / "x.json", ("colour", "mid"))
    scene = installation.scene = FakeScene(three_layouts(("colour", "mid")))
    with caplog.at_level(logging.ERROR):
        installation.reload(three_layouts(("a", "b")))
    assert list(scene.doc["layouts"]) == ["colour", "mid"]
    assert "layout reload rejected, keeping the current layout" in caplog.text and "layout 'mid' is not one of" in caplog.text
    with pytest.raises(UserError, match=r"steps\[0\]: layout 'mid' is not one of .*x\.json's \(a, b\)"):
        Installation(config, tmp_path / "x.json", ("a", "b"))


@in_own_process
def test_gallery_install_mode_runs_the_loop_obeys_osc_and_reloads(layout_path, tmp_path):
    from sketches import gallery
    from sketches.gallery_sketch import InstalledGallery

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "loop.json").write_text(json.dumps({"fly": 0.2, "hold": 0.3, "steps": [
        {"layout": "blur", "state": "tsne"}, {"layout": "blur", "state": "grid"},
        {"layout": "combined", "state": "grid"}]}))
    (tmp_path / "install.json").write_text(json.dumps({
        "playlist": "loop.json", "idle_seconds": 2.0, "osc_port": port, "log_file": "gallery.log",
        "reload_interval": 0.2, "fps_log_interval": 1.0}))
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    args = gallery.prepare([str(layout_path), "--install", str(tmp_path / "install.json")])
    sketch = InstalledGallery(args)
    osc = SimpleUDPClient("127.0.0.1", port)
    log_file = tmp_path / "gallery.log"
    try:
        sketch.run_sketch(block=False)
        scene = wait_for(lambda: getattr(sketch, "scene", None) and sketch.frame_count > 2 and sketch.scene, 30)
        player = args.installation.player
        assert sketch.width == 1920 and sketch.height == 1080          # full screen on the Xvfb display
        # the attract loop walks through the playlist on its own
        seen = set()
        wait_for(lambda: seen.add((scene.layout, scene.state)) or len(seen) == 3, 10)

        osc.send_message("/gallery/loop", "pause")
        wait_for(lambda: player.paused)
        osc.send_message("/gallery/layout", "blur")
        osc.send_message("/gallery/state", "tsne")
        wait_for(lambda: (scene.layout, scene.state) == ("blur", "tsne"))
        osc.send_message("/gallery/state", "toggle")
        wait_for(lambda: (scene.layout, scene.state) == ("blur", "grid"))
        time.sleep(1.0)                                                # paused: nothing moves on its own
        assert (scene.layout, scene.state) == ("blur", "grid")
        osc.send_message("/gallery/next", [])
        wait_for(lambda: (scene.layout, scene.state) == (player.step.layout, player.step.state))

        variant(layout_path, keep=3)                                   # a new embed run lands
        wait_for(lambda: len(sketch.scene.doc["images"]) == 3)
        layout_path.write_text(layout_path.read_text()[:200])          # a broken one is refused
        wait_for(lambda: "reload rejected" in log_file.read_text())
        assert len(sketch.scene.doc["images"]) == 3 and sketch.is_running

        osc.send_message("/gallery/loop", "play")
        wait_for(lambda: not player.paused)
        post_key(sketch, "x")                                          # a visitor: the loop waits …
        wait_for(lambda: player.waiting_for_idle)
        wait_for(lambda: not scene.is_animating(sketch.now()))
        x, y = scene.view.to_screen(*scene.animator.positions(sketch.now())[0, :2])
        post_mouse_move(sketch, x, y)                                  # … they point at an image: its panel shows
        wait_for(lambda: sketch.hover == 0)
        wait_for(lambda: not player.waiting_for_idle, 10)              # … the loop resumes once they are idle
        wait_for(lambda: sketch.hover is None)                         # … and the panel goes
        post_key(sketch, "h")
        time.sleep(0.3)
        assert not sketch.show_help                                    # no help text in installation mode
        post_key(sketch, "\x1b", code=27)                             # Esc does not end the show …
        time.sleep(1.0)
        assert sketch.is_running and "installation stopped" not in log_file.read_text()
        post_key(sketch, "Q", code=81, modifiers=CTRL | SHIFT)          # … the documented combination does
        wait_for(lambda: sketch.is_dead, 10)
    finally:
        if not sketch.is_dead:
            sketch.exit_sketch()
        wait_for(lambda: "installation stopped" in log_file.read_text(), 10)   # exiting() ran
        for handler in set(root.handlers) - set(handlers_before):
            handler.close()
            root.removeHandler(handler)
    log = log_file.read_text()
    cols, rows = args.doc["grid"]["cols"], args.doc["grid"]["rows"]
    assert f"{len(args.doc['images'])} images, grid {cols}x{rows}" in log and "GL: " in log and "OpenGL" in log
    assert "remote: loop pause" not in log                          # commands log at DEBUG, counted per fps line
    assert re.search(r"fps .* [1-9]\d* remote commands", log)
    assert "layout reloaded" in log and "quit key (Ctrl+Shift+Q) pressed" in log
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))                                # the OSC port was released


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT", "/gallery/quit"])
def test_the_show_stops_cleanly_on_a_signal_or_osc_quit(layout_path, tmp_path, stop):
    port = free_udp_port()
    config = tmp_path / "install.json"
    config.write_text(json.dumps({"osc_port": port, "log_file": "gallery.log"}))
    log_file = tmp_path / "gallery.log"
    show = subprocess.Popen([sys.executable, str(GALLERY), str(layout_path), "--install", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: log_file.exists() and "attract loop" in log_file.read_text(), 120)   # setup() is done
        time.sleep(2.0)                                                                      # frames are drawn
        if stop.startswith("SIG"):
            show.send_signal(getattr(signal, stop))
        else:
            SimpleUDPClient("127.0.0.1", port).send_message(stop, [])
        out, err = show.communicate(timeout=60)
    finally:
        if show.poll() is None:
            show.kill()
            show.communicate()
    assert show.returncode == 0, err
    assert "Traceback" not in err and "Exception" not in err
    assert "X11Util" not in err and err.strip() == "", err            # a clean stop prints nothing on stderr
    assert out.splitlines() == [f"gallery: installation running; log: {log_file}; stop it with Ctrl+Shift+Q, "
                                f"OSC /gallery/quit (UDP 127.0.0.1:{port}) or SIGTERM (Ctrl-C here)"]
    log = log_file.read_text()
    assert (f"{stop}: stopping" if stop.startswith("SIG") else "remote: quit") in log
    assert log.rstrip().endswith("installation stopped")


def test_a_hostile_address_pattern_neither_freezes_the_show_nor_blocks_sigterm(layout_path, tmp_path):
    """Issue 19's repro: one packet to /gallery/ + 80 `*` + x used to hold the interpreter for minutes (no
    frames, SIGTERM ignored). Now frames go on (fps logged on time) and SIGTERM ends the show within 2 s."""
    port = free_udp_port()
    config = tmp_path / "install.json"
    config.write_text(json.dumps({"osc_port": port, "log_file": "gallery.log", "fps_log_interval": 0.5}))
    log_file = tmp_path / "gallery.log"
    show = subprocess.Popen([sys.executable, str(GALLERY), str(layout_path), "--install", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: log_file.exists() and "attract loop" in log_file.read_text(), 120)
        osc = SimpleUDPClient("127.0.0.1", port)
        osc.send_message("/gallery/" + "*" * 80 + "x", [])
        osc.send_message("/gallery/q*", [])                        # must not quit
        fps_lines = log_file.read_text().count(" fps ")
        wait_for(lambda: log_file.read_text().count(" fps ") >= fps_lines + 2, 5)   # frames go on
        assert show.poll() is None
        show.send_signal(signal.SIGTERM)
        started = time.monotonic()
        out, err = show.communicate(timeout=10)
        stopped_after = time.monotonic() - started
    finally:
        if show.poll() is None:
            show.kill()
            show.communicate()
    assert show.returncode == 0, err
    assert stopped_after < 2.0
    log = log_file.read_text()
    assert log.count("address patterns are not accepted") == 2 and "remote: quit" not in log
    assert "SIGTERM: stopping" in log and log.rstrip().endswith("installation stopped")
