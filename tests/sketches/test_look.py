"""The artist's look: one table read from the command line and the installation config, checked alike."""

import json
import time

import pytest
from tests.sketches.conftest import make_layout
from tests.sketches.own_process import in_own_process

from layoutfile import UserError, read_layout
from sketches.gallery import parse_args
from sketches.lib.install_config import load_install_config
from sketches.lib.layout import check_layout_name
from sketches.lib.look import Look


def test_command_line_and_config_fill_the_same_look(tmp_path):
    args = parse_args(["x.json", "--background", "#f4f1ea", "--gap", "0.1", "--fly", "4", "--stagger", "0",
                       "--easing", "linear", "--layout", "combined", "--state", "grid", "--title", "Harbour",
                       "--title-size", "30"])
    config = tmp_path / "install.json"
    config.write_text(json.dumps({"background": "#f4f1ea", "gap": 0.1, "fly": 4, "stagger": 0, "easing": "linear",
                                  "layout": "combined", "state": "grid", "title": "Harbour", "title_size": 30,
                                  "hover": False, "captions": False}))
    loaded = load_install_config(config)
    assert args.look == loaded.look
    assert loaded.hover is False and loaded.captions is False
    assert args.look.background_rgb == (0xf4, 0xf1, 0xea) and args.look.image_side == pytest.approx(0.9)
    assert parse_args(["x.json"]).look == Look() and Look().background_rgb == (24, 24, 24)


def test_bad_values_name_the_option_or_the_key(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["x.json", "--title-size", "big"])
    assert exit_info.value.code == 2
    assert "--title-size must be a whole number of pixels, 8 to 200, not 'big'" in capsys.readouterr().err
    config = tmp_path / "install.json"
    config.write_text('{"background": "red"}')
    with pytest.raises(UserError, match=r"install.json: 'background' must be a grey level 0-255 or \"#rrggbb\""):
        load_install_config(config)


def test_the_start_layout_is_any_name_of_the_file(tmp_path):
    doc = read_layout(make_layout(tmp_path / "g"))
    assert Look().start(doc) == ("blur", "tsne")                       # the file's first layout
    assert Look(layout="combined", state="grid").start(doc) == ("combined", "grid")
    with pytest.raises(UserError, match=r"my.json: no layout named 'nope'; its layouts: blur, combined"):
        check_layout_name(doc, Look(layout="nope").layout, "my.json")


@in_own_process
def test_an_installation_starts_on_its_configured_look_without_hover(layout_path, tmp_path):
    """The config's start picture, background and title; with `hover: false` a visitor's pointer shows nothing."""
    import logging

    import numpy as np

    from sketches import gallery
    from sketches.gallery_sketch import InstalledGallery
    from tests.sketches.test_installation import post_mouse_move, wait_for

    (tmp_path / "install.json").write_text(json.dumps({
        "osc_port": None, "log_file": "gallery.log", "layout": "combined", "state": "grid", "hover": False,
        "background": "#f4f1ea", "gap": 0.2, "title": "Harbour", "title_size": 40}))
    handlers_before = list(logging.getLogger().handlers)
    args = gallery.prepare([str(layout_path), "--install", str(tmp_path / "install.json")])
    sketch = InstalledGallery(args)

    def frame():
        sketch.load_np_pixels()
        return sketch.np_pixels[:, :, 1:].astype(int).copy()

    try:
        sketch.run_sketch(block=False)
        scene = wait_for(lambda: getattr(sketch, "scene", None) and sketch.frame_count > 2 and sketch.scene, 30)
        assert (scene.layout, scene.state) == ("combined", "grid")          # not the playlist's blur / tsne
        assert np.allclose(scene.positions["combined", "grid"][:, 2], 0.8)    # gap 0.2
        pixels = frame()
        assert np.abs(pixels[5, sketch.width // 2] - (0xf4, 0xf1, 0xea)).max() <= 2   # the chosen background
        title = pixels[sketch.height - 60:sketch.height - 20, 20:150]
        assert (title.sum(axis=2) < 200).sum() > 100                           # dark title text on the light band
        x, y = scene.view.to_screen(*scene.positions["combined", "grid"][0, :2])
        post_mouse_move(sketch, x, y)                                          # a visitor points at image 0
        wait_for(lambda: sketch.hover == 0)
        time.sleep(0.5)
        assert sketch.hover_image is None and np.abs(frame() - pixels).max() <= 2   # no panel at all
    finally:
        if not sketch.is_dead:
            sketch.exit_sketch()
        wait_for(lambda: sketch.is_dead, 10)
        for handler in set(logging.getLogger().handlers) - set(handlers_before):
            handler.close()
            logging.getLogger().removeHandler(handler)


def test_a_recording_takes_the_look_options(layout_path, tmp_path):
    import subprocess
    import sys

    import numpy as np
    from PIL import Image

    from tests.sketches.conftest import ROOT

    playlist = tmp_path / "still.json"
    playlist.write_text(json.dumps({"loop": False, "steps": [{"layout": "blur", "state": "grid", "hold": 0.2}]}))
    out = tmp_path / "frames"
    result = subprocess.run([sys.executable, str(ROOT / "sketches" / "record.py"), str(layout_path), "-o", str(out),
                             "--png", "--size", "320x180", "--fps", "10", "--playlist", str(playlist),
                             "--background", "#f4f1ea", "--title", "Harbour", "--title-size", "20"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    frame = np.asarray(Image.open(sorted(out.iterdir())[0]).convert("RGB")).astype(int)
    assert np.abs(frame[2, 160] - (0xf4, 0xf1, 0xea)).max() <= 2                    # the chosen background
    assert (frame[150:178, 8:80].sum(axis=2) < 200).sum() > 30                       # the dark title text
    bad = subprocess.run([sys.executable, str(ROOT / "sketches" / "record.py"), str(layout_path), "-o", "x.mp4",
                          "--fly", "3"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unrecognized arguments: --fly" in bad.stderr      # the playlist sets flights
