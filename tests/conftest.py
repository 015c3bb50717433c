"""Fixtures every test folder may use: a small real file system (tmpfs) and a guard against hangs."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest


class Tmpfs:
    """Mounts small tmpfs file systems under a test's tmp_path (root only; skips the test where not permitted)."""

    def __init__(self, base: Path):
        self.base = base
        self.mounted: list[Path] = []

    def mount(self, size: str, name: str = "disk") -> Path:
        """A fresh tmpfs of `size` (e.g. "4m") at tmp_path/name."""
        folder = self.base / name
        folder.mkdir()
        self._run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
        self.mounted.append(folder)
        return folder

    def read_only(self, folder: Path) -> None:
        """Remount a tmpfs of this fixture read-only."""
        self._run("mount", "-o", "remount,ro", str(folder))

    def _run(self, *command: str) -> None:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if result.returncode:
            pytest.skip(f"cannot {command[0]} a tmpfs here: {result.stderr.strip()}")

    def unmount_all(self) -> None:
        for folder in reversed(self.mounted):
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


@pytest.fixture(autouse=True, scope="session")
def own_config_home(tmp_path_factory):
    """Builds sign their sources with a key in $XDG_CONFIG_HOME (layoutfile/trust.py): the tests' own, never the
    user's; subprocesses inherit it."""
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))


@pytest.fixture
def tmpfs(tmp_path):
    """A `Tmpfs` whose file systems are unmounted after the test."""
    disks = Tmpfs(tmp_path)
    yield disks
    disks.unmount_all()


@pytest.fixture
def no_hang():
    """Fail the test (TimeoutError in the main thread) if it blocks for 20 s, e.g. opening a FIFO."""

    def hung(signum, frame):
        raise TimeoutError("blocked for 20 s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
