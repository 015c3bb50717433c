"""Atomic writes, the one-line JSON reader, regular-file-only opening and printable text."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from layoutfile import (NotRegularFileError, UserError, WriteError, atomic, atomic_path, open_regular, printable,
                        read_json_file, remove_stale_temp_files, write_text_atomic)

REPO = Path(__file__).resolve().parents[2]


class OwnError(UserError):
    pass


def test_atomic_write_replaces_the_file_whole_with_usual_permissions(tmp_path):
    target = tmp_path / "new" / "folder" / "file.txt"
    write_text_atomic(target, "first")
    write_text_atomic(target, "second ✓")
    assert target.read_text(encoding="utf-8") == "second ✓"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "file.png"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png"   # the target's suffix, for PIL and numpy
        tmp.write_text("half")
        raise RuntimeError("stopped")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.png"]


def test_json_reader_turns_each_failure_into_one_line(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('{"a": [1, 2]}')
    assert read_json_file(good, "test") == {"a": [1, 2]}
    with pytest.raises(UserError, match=r"missing.json: no such test file \(hint\)$"):
        read_json_file(tmp_path / "missing.json", "test", missing_hint=" (hint)")
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": ')
    with pytest.raises(OwnError, match=r"bad.json: not valid JSON \(line 1: "):
        read_json_file(bad, "test", OwnError)
    with pytest.raises(UserError, match="cannot read test file"):
        read_json_file(tmp_path, "test")


def test_only_regular_files_are_opened(tmp_path, no_hang):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    (tmp_path / "link.json").symlink_to(fifo)
    for path, kind in [(fifo, "a FIFO"), (tmp_path / "link.json", "a FIFO"), (tmp_path, "a folder"),
                       (Path("/dev/null"), "a character device")]:
        with pytest.raises(NotRegularFileError, match=f"not a regular file \\({kind}\\)"):
            open_regular(path)
        with pytest.raises(UserError, match=f"cannot read test file \\(not a regular file \\({kind}\\)\\)$"):
            read_json_file(path, "test")
    regular = tmp_path / "file.txt"
    regular.write_text("ok")
    (tmp_path / "good-link").symlink_to(regular)
    with open_regular(tmp_path / "good-link") as file:
        assert file.read() == b"ok"


@pytest.mark.parametrize("text, reason", [
    ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    ("[" + "1" * 5000 + "]", "Exceeds the limit"),
    ('{"a": "\xff"}'.encode("latin-1"), "not UTF-8 text"),
    ("x" * 101, "larger than 100 bytes"),
])
def test_json_that_would_exhaust_the_reader_is_one_line(tmp_path, text, reason):
    path = tmp_path / "hostile.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(UserError, match=reason) as caught:
        read_json_file(path, "test", max_bytes=100 if "larger" in reason else 10**7)
    assert "\n" not in str(caught.value)


def test_printable_escapes_controls_bidi_and_bytes_that_are_not_utf8():
    assert printable("plain ✓ text") == "plain ✓ text"
    assert printable("a\x1b[2Jb\nc\td\x9be\u202ef") == "a\\x1b[2Jb\\nc\\td\\x9be\\u202ef"
    assert printable(os.fsdecode(b"caf\xe9.png")) == "caf\\xe9.png"
    printable(os.fsdecode(b"\xff\xfe")).encode("utf-8")   # never an encoding error


def test_a_failed_sync_is_one_line_and_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "layout.json"
    write_text_atomic(target, "old")

    def full_disk(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic, "fsync_file", full_disk)
    with pytest.raises(WriteError, match=r"layout.json: cannot write \(No space left on device\)$"):
        write_text_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["layout.json"]


def test_writes_into_a_read_only_folder_are_one_line(tmpfs):
    disk = tmpfs.mount("1m")
    write_text_atomic(disk / "layout.json", "old")
    tmpfs.read_only(disk)
    with pytest.raises(WriteError, match=r"layout.json: cannot write \(Read-only file system\)$"):
        write_text_atomic(disk / "layout.json", "new")
    assert (disk / "layout.json").read_text() == "old"


KILLED_WRITER = """
import os, signal, sys
from layoutfile import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_temporary_files_of_killed_writers_are_found_and_removed(tmp_path):
    target = tmp_path / "sheet.jpg"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], cwd=REPO, timeout=60)
    assert killed.returncode == -signal.SIGKILL
    left = [p for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].name.startswith(".sheet.jpg.tmp-") and left[0].suffix == ".jpg"
    (tmp_path / "keep.jpg").write_text("not a temporary file")
    with atomic_path(target) as mine:   # a live writer's (this process's) temporary file is not stale
        mine.write_text("x")
        assert remove_stale_temp_files(tmp_path) == 1
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["keep.jpg", mine.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.jpg", "sheet.jpg"]
