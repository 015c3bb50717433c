"""The artist's look: one table read from the command line and the installation config, checked alike."""

import json

import pytest
from tests.sketches.conftest import make_layout

from layoutfile import UserError, read_layout
from sketches.gallery import parse_args
from sketches.lib.install_config import load_install_config
from sketches.lib.look import Look, check_layout


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
    with pytest.raises(UserError, match=r"my.json: no layout named 'nope' \(it has blur, combined\)"):
        check_layout(Look(layout="nope"), doc, "my.json")
