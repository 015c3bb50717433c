"""Checks that turn "no display" / "no Java" into one clear line before py5 starts (and fails inside) the JVM."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from layoutfile import UserError


def require_display() -> None:
    """Raise UserError when there is no X display (py5's windowing needs one, even for snapshots)."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise UserError('no X display: run under `xvfb-run -a -s "-screen 0 1920x1080x24" ...` or on a desktop')


def require_java() -> None:
    """Raise UserError when no Java runtime (17 or newer) can be found for py5."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return
    if shutil.which("java") is None:
        raise UserError("no Java found: py5 needs Java 17+ (Debian: `apt-get install openjdk-17-jre`, "
                        "or `scripts/setup.sh --test`), or set JAVA_HOME")


def require_display_and_java() -> None:
    """Both checks, display first."""
    require_display()
    require_java()
