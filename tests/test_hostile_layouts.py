"""A hostile layout file is just an error: every reader (embed info, embed poster, the gallery, the recorder,
the installation's hot reload) turns each broken shape into one line and exit status 2, never a traceback or
a hang, and opens nothing outside the layout's folders."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from embed.cli import main as embed_main
from layoutfile import build_layout, digest_bytes, write_layout
from sketches import gallery, record
from sketches.lib.reload import LayoutWatcher

COLOURS = [(230, 30, 30), (30, 200, 40), (40, 60, 230)]
OPENED: list[str] | None = None   # paths opened while a reader runs (see the audit hook below)


def _record_opens(event: str, args: tuple) -> None:
    if OPENED is not None and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_record_opens)


def write_gallery(root: Path) -> Path:
    """root/gallery/layout.json (3 images, two atlas levels, a real v2 file) + its images; root/secret/secret.png."""
    folder, source = root / "gallery", root / "gallery" / "source"
    (source / "colours").mkdir(parents=True)
    (root / "secret").mkdir()
    Image.new("RGB", (16, 16), (255, 255, 255)).save(root / "secret" / "secret.png")
    levels = []
    for cell in (8, 16):
        sheet = np.zeros((2 * cell, 2 * cell, 3), np.uint8)
        for i, colour in enumerate(COLOURS):
            sheet[(i // 2) * cell:(i // 2 + 1) * cell, (i % 2) * cell:(i % 2 + 1) * cell] = colour
        rel = f"layout_atlas/{cell}/000.png"
        (folder / rel).parent.mkdir(parents=True)
        Image.fromarray(sheet).save(folder / rel)
        data = (folder / rel).read_bytes()
        levels.append({"cell_px": cell, "sheet_px": 2 * cell, "files": [rel], "bytes": [len(data)],
                       "blake2b": [digest_bytes(data)]})
    images = []
    for i, colour in enumerate(COLOURS):
        Image.new("RGB", (32, 24), colour).save(source / "colours" / f"{i}.png")
        images.append({"id": f"id{i}", "path": f"colours/{i}.png", "width": 32, "height": 24,
                       "atlas_sheet": 0, "atlas_cell": i})
    doc = build_layout(generator_version="test", params={"source": "source"}, atlas_levels=levels, images=images,
                       cols=2, rows=2, skipped=[{"path": "bad.jpg", "reason": "truncated JPEG"}],
                       layouts={name: {"label": name, "tsne": [[0, 0], [1, 0.5], [0.5, 1]],
                                       "grid": [[0, 0], [1, 0], [0, 1]]} for name in ("blur", "combined")})
    write_layout(folder / "layout.json", doc)
    return folder / "layout.json"


def edit(change):
    """A shape made by changing the decoded document."""
    def make(doc: dict) -> str:
        doc = copy.deepcopy(doc)
        result = change(doc)
        return json.dumps(doc if result is None else result)
    return make


def text(change):
    """A shape made by changing the file's text."""
    return lambda doc: change(json.dumps(doc, separators=(",", ":")))


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"x": value}
    return value


SHAPES = {
    "top level a list": (edit(lambda d: [d]), "top level is not a JSON object"),
    "grid a list": (edit(lambda d: d.update(grid=[2, 2])), "'grid' is not an object"),
    "params a string": (edit(lambda d: d.update(params="x")), "'params' is not an object"),
    "layouts a list": (edit(lambda d: d.update(layouts=[])), "'layouts' is not an object"),
    "atlas a number": (edit(lambda d: d.update(atlas=5)), "'atlas' is not an object"),
    "a layout a number": (edit(lambda d: d["layouts"].update(blur=7)), "layout 'blur' is missing"),
    "an atlas level a string": (edit(lambda d: d["atlas"].update(levels=["x"])), r"'atlas.levels\[0\]' is not"),
    "path a number": (edit(lambda d: d["images"][0].update(path=5)), r"images\[0\].path' is not a non-empty string"),
    "cell_px 0": (edit(lambda d: d["atlas"]["levels"][0].update(cell_px=0)), r"cell_px' must be a whole number"),
    "sheet_px a bomb": (edit(lambda d: d["atlas"]["levels"][0].update(sheet_px=1 << 20)), "sheet_px' must be"),
    "atlas sheet out of range": (edit(lambda d: d["images"][0].update(atlas_sheet=9)), r"atlas_sheet' must be"),
    "atlas cell negative": (edit(lambda d: d["images"][0].update(atlas_cell=-1)), r"atlas_cell' must be"),
    "width negative": (edit(lambda d: d["images"][0].update(width=-4)), r"width' must be"),
    "version true": (edit(lambda d: d.update(version=True)), "non-integer 'version'"),
    "version from the future": (edit(lambda d: d.update(version=99)), "version 99 is newer"),
    "cols 10^5": (edit(lambda d: d["grid"].update(cols=10**5)), "grid 100000x2 has more than 70 cells"),
    "grid cell not whole": (edit(lambda d: d["layouts"]["blur"].update(grid=[[0.5, 0], [1, 0], [0, 1]])),
                            "must be 3 pairs of whole numbers"),
    "tsne strings": (edit(lambda d: d["layouts"]["blur"].update(tsne=[["a", "b"]] * 3)), "must be 3 pairs of numbers"),
    "tsne NaN": (edit(lambda d: d["layouts"]["blur"].update(tsne=[[float("nan"), 0], [1, 0], [0, 1]])), "finite"),
    "tsne_display out of range": (edit(lambda d: d["layouts"]["blur"].update(tsne_display=[[0, 0], [9, 0], [0, 1]])),
                                  "tsne_display: coordinates"),
    "label a list": (edit(lambda d: d["layouts"]["blur"].update(label=[1])), r"label' must be a string"),
    "metrics a list": (edit(lambda d: d["layouts"]["blur"].update(metrics=[])), r"metrics' is not an object"),
    "generator a string": (edit(lambda d: d.update(generator="x")), "'generator' is not an object"),
    "skipped entries numbers": (edit(lambda d: d.update(skipped=[1])), r"skipped\[0\] lacks path or reason"),
    "params deeply nested": (edit(lambda d: d["params"].update(x=nested(50))), "nested more than 8 levels"),
    "params huge string": (edit(lambda d: d["params"].update(x="a" * 10_000)), "at most 4096 characters"),
    "source with NUL": (edit(lambda d: d["params"].update(source="a\x00b")), "'params.source' must be"),
    "image path escapes": (edit(lambda d: d["images"][0].update(path="../../secret/secret.png")),
                           "leaves its folder .* inside the images folder"),
    "image path absolute": (edit(lambda d: d["images"][0].update(path="/etc/shadow")), "is absolute"),
    "image path with NUL": (edit(lambda d: d["images"][0].update(path="a\x00.png")), "NUL"),
    "atlas path escapes": (edit(lambda d: d["atlas"]["levels"][0].update(files=["../secret/secret.png"])),
                           "leaves its folder .* inside the layout file's folder"),
    "atlas path absolute": (edit(lambda d: d["atlas"]["levels"][1].update(files=["/etc/shadow"])), "is absolute"),
    "sheet digest wrong shape": (edit(lambda d: d["atlas"]["levels"][0].update(blake2b=[5])), "hex-digit digest"),
    "200k-deep nesting": (lambda d: "[" * 200_000 + "]" * 200_000, "nested too deeply"),
    "5,000-digit integer": (text(lambda t: t.replace('"cols":2', '"cols":' + "7" * 5000)), "4300 digits"),
    "half written": (text(lambda t: t[:len(t) // 2]), "not valid JSON"),
    "not UTF-8": (text(lambda t: t.replace('"blur"', '"bl\udcffur"', 1)), "not UTF-8 text"),
    "escape codes in a message": (edit(lambda d: d.update(format="\x1b[2J\x1b]0;pwned\x07")),
                                  r"format is '\\x1b\[2J"),
}


def write_shape(path: Path, make) -> None:
    content = make(json.loads(path.read_text()))
    path.write_bytes(content.encode("utf-8", "surrogateescape"))


@pytest.fixture
def layout(tmp_path) -> Path:
    return write_gallery(tmp_path)


def run_reader(reader: str, path: Path, tmp_path: Path, capsys, caplog) -> tuple[int, str]:
    """(exit status, what it printed on stderr / logged) of one reader on `path`."""
    if reader in ("info", "poster"):
        argv = ["info", str(path)] if reader == "info" else ["poster", str(path), "-o", str(tmp_path / "p.png"),
                                                             "--no-progress"]
        status = embed_main(argv)
        return status, capsys.readouterr().err
    if reader in ("gallery", "record"):
        argv = [str(path)] if reader == "gallery" else [str(path), "-o", str(tmp_path / "v.mp4")]
        with pytest.raises(SystemExit) as exited:
            (gallery if reader == "gallery" else record).prepare(argv)
        return exited.value.code, capsys.readouterr().err
    watcher = LayoutWatcher(path, interval=0)   # hot reload: a valid layout replaced by the hostile file
    watcher._signature = None
    try:
        with caplog.at_level(logging.ERROR):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if watcher.poll(time.monotonic()) is not None:
                    return 0, ""
                if watcher._pending is None and caplog.records:
                    break
                time.sleep(0.01)
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        return (2 if errors else 1), "".join(f"error: {e}\n" for e in errors)
    finally:
        watcher.close()


READERS = ("info", "poster", "gallery", "record", "hot reload")


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("shape", SHAPES)
def test_each_hostile_shape_is_one_line_and_exit_2_in_every_reader(shape, reader, layout, tmp_path, capsys, caplog,
                                                                   no_hang):
    global OPENED
    make, reason = SHAPES[shape]
    write_shape(layout, make)
    OPENED = []
    try:
        status, err = run_reader(reader, layout, tmp_path, capsys, caplog)
    finally:
        opened, OPENED = OPENED, None
    assert status == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert str(layout) in err and re.search(reason, err), err
    assert all(line.isprintable() for line in err.splitlines()), err
    assert not [p for p in opened if "secret" in p or p.startswith(("/etc", "/dev"))], opened
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("reader", READERS)
def test_a_fifo_as_the_layout_file_is_refused_without_blocking(reader, layout, tmp_path, capsys, caplog, no_hang):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    os.replace(fifo, layout)
    status, err = run_reader(reader, layout, tmp_path, capsys, caplog)
    assert status == 2 and "not a regular file (a FIFO)" in err and err.count("\n") == 1, err


@pytest.mark.parametrize("reader", ("gallery", "record", "hot reload"))
def test_a_fifo_as_an_atlas_sheet_is_refused_without_blocking(reader, layout, tmp_path, capsys, caplog, no_hang):
    sheet = layout.parent / "layout_atlas" / "16" / "000.png"
    sheet.unlink()
    os.mkfifo(sheet)
    status, err = run_reader(reader, layout, tmp_path, capsys, caplog)
    assert status == 2 and "000.png: atlas sheet unreadable (not a regular file (a FIFO))" in err, err


def test_the_untouched_layout_passes_every_reader(layout, tmp_path, capsys, caplog):
    """The base of the shapes above is valid, so each failure comes from its one change."""
    assert run_reader("info", layout, tmp_path, capsys, caplog)[0] == 0
    assert run_reader("hot reload", layout, tmp_path, capsys, caplog)[0] == 0
    assert embed_main(["poster", str(layout), "-o", str(tmp_path / "ok.png"), "--cell", "8", "--no-progress"]) == 0
    poster = np.asarray(Image.open(tmp_path / "ok.png"))
    assert [tuple(poster[4, 4]), tuple(poster[4, 12]), tuple(poster[12, 4])] == COLOURS


def test_info_prints_no_control_characters(layout, capsys):
    doc = json.loads(layout.read_text())
    doc["layouts"]["blur"]["label"] = "\x1b]0;title\x07\x1b[31mred"
    doc["skipped"] = [{"path": "evil\x1b[2J\n.jpg", "reason": "\x9b6n"}]
    doc["params"]["note"] = "\u202egnp.exe"
    layout.write_text(json.dumps(doc))
    assert embed_main(["info", str(layout)]) == 0
    out = capsys.readouterr().out
    assert all(line.isprintable() for line in out.splitlines())
    assert "evil\\x1b[2J\\n.jpg: \\x9b6n" in out and "\\u202egnp.exe" in out
