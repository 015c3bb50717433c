"""A layout is one unit: replaced whole or not at all. Builds killed with SIGKILL at injected points, full
disks (injected ENOSPC and a real small tmpfs), a read-only folder, two builds of one output at once,
sheets changed on disk, file names that are not UTF-8 and an output inside the images folder; after each,
the layout on disk is whole: every sheet is the file it names and every atlas cell shows its image."""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from embed.cli import main
from embed.build.lock import BuildBusy, build_lock
from embed.build.sweep import atlas_folder
from layoutfile import atlas_paths, atomic, cell_origin, check_sheets, read_layout
from sketches.lib.layout import load_layout
from sketches.lib.reload import LayoutWatcher
from tests.embed.conftest import distinct_colours

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--features", "lab", "--atlas-cells", "8,16", "--perplexity", "5", "--grid", "lap", "--workers", "0",
        "--quiet"]
COLOURS = distinct_colours(40)

CHILD = """
import os, signal, sys, time
from pathlib import Path
import embed.build.pipeline, layoutfile.atomic
mode, flags = sys.argv[1], Path(sys.argv[2])
if mode == "kill-at-json":        # killed after the sheets are written, before the JSON is
    embed.build.pipeline.write_layout = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
elif mode == "kill-in-sheet":     # killed with a sheet's temporary file written, before its rename
    real_sync = layoutfile.atomic.fsync_file
    def fsync_file(path):
        if "_atlas" in str(path):
            os.kill(os.getpid(), signal.SIGKILL)
        real_sync(path)
    layoutfile.atomic.fsync_file = fsync_file
elif mode == "hold":              # holds the build lock, sheets written, until the test creates flags/release
    real_write = embed.build.pipeline.write_layout
    def write_layout(path, doc):
        (flags / "holding").touch()
        deadline = time.monotonic() + 240
        while not (flags / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        real_write(path, doc)
    embed.build.pipeline.write_layout = write_layout
from embed.cli import main
sys.exit(main(sys.argv[3:]))
"""


def child(mode: str, flags: Path, argv: list[str], **popen) -> subprocess.Popen:
    """A build in another process, with `mode`'s failure point injected."""
    return subprocess.Popen([sys.executable, "-c", CHILD, mode, str(flags), *argv], cwd=REPO, **popen)


def add_images(folder: Path, colours: list[tuple[int, int, int]], start: int = 0) -> None:
    """Solid-colour PNGs img_<start>.png … in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, colour in enumerate(colours, start):
        Image.new("RGB", (24, 16), colour).save(folder / f"img_{i:03d}.png")


def build(images: Path, out: Path, *extra: str) -> int:
    return main([str(images), "-o", str(out), *ARGS, *extra])


def assert_whole(out: Path, images: int | None = None) -> dict:
    """The layout at `out` and the sheets it names are one unit: each sheet is byte for byte the file the layout
    names, the sketches load it, and every atlas cell at every level shows its image's colour. Returns it."""
    doc = read_layout(out)
    check_sheets(doc, out, digests=True)
    load_layout(out)
    source = Path(doc["params"]["source"])
    colours = [np.asarray(Image.open(source / image["path"]).convert("RGB"), int)[0, 0] for image in doc["images"]]
    for level, paths in zip(doc["atlas"]["levels"], atlas_paths(doc, out)):
        cell, sheet_px = level["cell_px"], level["sheet_px"]
        sheets = [np.asarray(Image.open(path).convert("RGB"), int) for path in paths]
        for image, colour in zip(doc["images"], colours):
            x, y = cell_origin(image["atlas_cell"], cell, sheet_px)
            shown = sheets[image["atlas_sheet"]][y + cell // 2, x + cell // 2]
            assert np.abs(shown - colour).max() <= 12, (image["path"], level["cell_px"])
    if images is not None:
        assert len(doc["images"]) == images
    return doc


def sheet_files(out: Path) -> set[str]:
    return {str(p) for p in atlas_folder(out).rglob("*") if p.is_file()}


def named(doc: dict, out: Path) -> set[str]:
    return {str(p) for level in atlas_paths(doc, out) for p in level}


def temp_files(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob(".*.tmp-*")]


@pytest.fixture
def first_build(tmp_path, capsys) -> tuple[Path, Path, dict]:
    """16 images built into out/layout.json, then 8 more added to the folder (not built yet)."""
    images, out = tmp_path / "images", tmp_path / "out" / "layout.json"
    add_images(images, COLOURS[:16])
    assert build(images, out) == 0
    doc = assert_whole(out, 16)
    add_images(images, COLOURS[16:24], start=16)
    capsys.readouterr()
    return images, out, doc


def test_kill_9_while_writing_a_sheet_or_before_the_json_leaves_the_old_layout_whole(first_build, tmp_path):
    images, out, old = first_build
    argv = [str(images), "-o", str(out), *ARGS]
    for mode in ("kill-in-sheet", "kill-at-json"):
        killed = child(mode, tmp_path, argv)
        assert killed.wait(timeout=300) == -9, mode
        assert read_layout(out)["created"] == old["created"]
        assert_whole(out, 16)
        if mode == "kill-in-sheet":   # the temporary file of the sheet being written is left
            assert [p.parent.parent.name for p in temp_files(out.parent)] == ["layout_atlas"]
    assert not temp_files(out.parent)                # the next run removed it (its writer is dead)
    assert sheet_files(out) > named(old, out)       # the killed run's new sheets are there, named by no layout

    assert build(images, out) == 0                   # the next run: not "up to date", and it tidies up
    new = assert_whole(out, 24)
    assert sheet_files(out) == named(new, out) | named(old, out) and not temp_files(out.parent)


@pytest.mark.parametrize("where", ["sheet", "json"])
def test_a_full_disk_while_writing_is_one_line_and_leaves_the_old_layout_whole(first_build, monkeypatch, capsys,
                                                                                where):
    images, out, old = first_build
    real_sync, synced = atomic.fsync_file, []

    def fsync_file(path):   # the second sheet (or the JSON) finds the disk full, as ENOSPC at fsync does
        sheet = "_atlas" in str(path)
        if (sheet and len(synced) == 1) if where == "sheet" else path.name.startswith(".layout.json"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if sheet:
            synced.append(path)
        real_sync(path)

    monkeypatch.setattr(atomic, "fsync_file", fsync_file)
    assert build(images, out) == 2
    err = capsys.readouterr().err
    file = r"layout_atlas/\d+/00\d-[0-9a-f]{16}\.jpg" if where == "sheet" else r"out/layout\.json"
    assert re.fullmatch(f"error: .*{file}: cannot write \\(No space left on device\\)\n", err), err
    assert_whole(out, 16)
    assert sheet_files(out) == named(old, out) and not temp_files(out.parent)   # this run's sheets removed


def fill(disk: Path, leave: int) -> Path:
    """Fill the file system of `disk` up to `leave` bytes free; return the filler file."""
    filler = disk / "filler"
    with open(filler, "wb") as file:
        while (free := shutil.disk_usage(disk).free) > leave:
            try:
                file.write(b"\0" * min(free - leave, 1 << 20))
                file.flush()
            except OSError:
                break
    return filler


@pytest.mark.parametrize("leave_kib", [0, 16, 64, 96])   # 112 KiB was room enough for this build
def test_a_real_full_disk_is_one_line_and_leaves_the_old_layout_whole(tmpfs, tmp_path, capsys, leave_kib):
    disk = tmpfs.mount("4m")
    images, out = tmp_path / "images", disk / "layout.json"
    add_images(images, COLOURS[:16])
    assert build(images, out) == 0
    old = assert_whole(out, 16)
    add_images(images, COLOURS[16:40], start=16)
    filler = fill(disk, leave_kib * 1024)
    capsys.readouterr()
    assert build(images, out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "No space left on device" in err, err
    assert_whole(out, 16)
    assert sheet_files(out) == named(old, out) and not temp_files(disk)
    filler.unlink()
    assert build(images, out) == 0   # with room again, the same command finishes the job
    assert_whole(out, 40)


def test_a_read_only_output_folder_is_one_line_and_an_up_to_date_check_still_works(tmpfs, tmp_path, capsys):
    disk = tmpfs.mount("4m")
    images, out = tmp_path / "images", disk / "layout.json"
    add_images(images, COLOURS[:16])
    assert build(images, out) == 0
    tmpfs.read_only(disk)
    capsys.readouterr()
    assert build(images, out) == 0 and "up to date" in capsys.readouterr().out
    add_images(images, COLOURS[16:20], start=16)
    assert build(images, out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Read-only file system" in err, err
    assert_whole(out, 16)


def test_two_builds_of_one_output_take_turns_and_a_watcher_sees_only_whole_layouts(tmp_path, capsys):
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out" / "layout.json"
    add_images(a, COLOURS[:16])
    add_images(b, COLOURS[16:40])
    first = child("hold", tmp_path, [str(a), "-o", str(out), *ARGS])
    second = None
    watcher, seen = LayoutWatcher(out, interval=0.01), []
    try:
        deadline = time.monotonic() + 300
        while not (tmp_path / "holding").exists():
            assert first.poll() is None and time.monotonic() < deadline, "the first build ended before it held"
            time.sleep(0.05)
        assert main([str(b), "-o", str(out), *ARGS, "--no-wait"]) == 75
        assert capsys.readouterr().err == (f"error: another build is writing {out} (pid {first.pid}); "
                                           "not waiting (--no-wait)\n")
        with open(tmp_path / "second.err", "w") as err:
            second = child("plain", tmp_path, [str(b), "-o", str(out), *ARGS], stderr=err)
        while f"(pid {first.pid}); waiting…" not in (tmp_path / "second.err").read_text():
            assert second.poll() is None and time.monotonic() < deadline, (tmp_path / "second.err").read_text()
            time.sleep(0.05)
        (tmp_path / "release").touch()
        while first.poll() is None or second.poll() is None:   # a hot-reloading gallery, meanwhile
            assert time.monotonic() < deadline
            doc = watcher.poll(time.monotonic())
            if doc is not None:
                check_sheets(doc, out, digests=True)   # whole: every sheet it names is there, as named
                seen.append(len(doc["images"]))
            time.sleep(0.005)
        assert first.returncode == 0 and second.returncode == 0
    finally:
        watcher.close()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert all(n in (16, 24) for n in seen)
    doc = assert_whole(out, 24)
    assert doc["params"]["source"] == str(b)


def test_a_sheet_changed_on_disk_makes_the_layout_out_of_date(tmp_path, capsys):
    images, out = tmp_path / "images", tmp_path / "out" / "layout.json"
    add_images(images, COLOURS[:16])
    assert build(images, out) == 0
    sheet = atlas_paths(read_layout(out), out)[1][0]
    buffer = io.BytesIO()
    Image.open(sheet).save(buffer, "JPEG", quality=20)   # same size in pixels, other bytes
    sheet.write_bytes(buffer.getvalue())
    capsys.readouterr()
    assert build(images, out) == 0 and "up to date" not in capsys.readouterr().out
    assert_whole(out, 16)
    assert build(images, out) == 0 and "up to date" in capsys.readouterr().out


def finished_pid() -> int:
    """The pid of a process that has ended (as a killed writer's has)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_old_sheets_go_one_build_later_and_stale_temporary_files_go_too(tmp_path):
    images, out = tmp_path / "images", tmp_path / "out" / "layout.json"
    add_images(images, COLOURS[:16])
    assert build(images, out) == 0
    first = named(read_layout(out), out)
    add_images(images, COLOURS[16:20], start=16)
    assert build(images, out) == 0
    second = named(read_layout(out), out)
    assert sheet_files(out) == first | second   # a gallery still showing the first layout can read its sheets
    pid = finished_pid()
    stale = [out.parent / f".layout.json.tmp-{pid}-abc123.json", atlas_folder(out) / "8" / f".000.jpg.tmp-{pid}-x.jpg",
             out.parent / ".cache" / f".scan.json.tmp-{pid}-q1.json"]
    for path in stale:
        path.write_text("left by a killed run")
    (atlas_folder(out) / "notes.txt").write_text("not a sheet")
    add_images(images, COLOURS[20:24], start=20)
    assert build(images, out) == 0
    third = named(read_layout(out), out)
    assert sheet_files(out) == second | third | {str(atlas_folder(out) / "notes.txt")}
    assert not any(path.exists() for path in stale)


def test_file_names_that_are_not_utf8_are_laid_out_and_printed_escaped(tmp_path, capsys):
    images, out = tmp_path / "images", tmp_path / "out" / "layout.json"
    add_images(images, COLOURS[:15])
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), COLOURS[15]).save(buffer, "PNG")
    with open(os.fsencode(images) + b"/caf\xe9\x1b[2J.png", "wb") as file:
        file.write(buffer.getvalue())
    assert build(images, out) == 0
    assert out.read_bytes().isascii()
    doc = assert_whole(out, 16)
    assert b"caf\xe9\x1b[2J.png" in [os.fsencode(image["path"]) for image in doc["images"]]
    info = subprocess.run([sys.executable, "-m", "embed", "info", str(out)], cwd=REPO, capture_output=True,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"}, timeout=120)
    assert info.returncode == 0, info.stderr
    capsys.readouterr()
    assert main(["poster", str(out), "-o", str(tmp_path / "p.png"), "--cell", "8", "--no-progress"]) == 0
    image = next(im for im in doc["images"] if os.fsencode(im["path"]).startswith(b"caf"))
    col, row = read_layout(out)["layouts"]["combined"]["grid"][doc["images"].index(image)]
    poster = np.asarray(Image.open(tmp_path / "p.png"), int)
    assert np.abs(poster[row * 8 + 4, col * 8 + 4] - COLOURS[15]).max() <= 2


@pytest.mark.parametrize("output", ["images/out/layout.json", "images/layout.json"])
def test_an_output_inside_the_images_folder_is_not_read_as_images(tmp_path, capsys, output):
    images, out = tmp_path / "images", tmp_path / output
    add_images(images, COLOURS[:16])
    assert build(images, out) == 0
    add_images(images, COLOURS[16:18], start=16)
    assert build(images, out) == 0
    doc = assert_whole(out, 18)
    assert not doc["skipped"] and all(image["path"].startswith("img_") for image in doc["images"])


def test_a_second_build_waits_for_the_lock_and_says_for_whom(tmp_path):
    out = tmp_path / "out" / "layout.json"
    held, release, said = threading.Event(), threading.Event(), []

    def first_build():
        with build_lock(out):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=first_build)
    holder.start()
    try:
        assert held.wait(30)
        busy = f"another build is writing {out} (pid {os.getpid()})"
        with pytest.raises(BuildBusy, match=re.escape(f"{busy}; not waiting (--no-wait)")) as caught:
            with build_lock(out, wait=False):
                pass
        assert caught.value.exit_status == 75
        threading.Timer(0.3, release.set).start()
        with build_lock(out, notify=said.append):
            assert not holder.is_alive() or release.is_set()
        assert said == [f"{busy}; waiting…"]
    finally:
        release.set()
        holder.join(30)
