"""Atomic writes and the one-line JSON reader."""

from __future__ import annotations

import os
import stat

import pytest

from layoutfile import UserError, atomic_path, read_json_file, write_text_atomic


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
