"""Hot reload: notice that the layout JSON on disk was replaced and read the new one off the draw thread.

`LayoutWatcher.poll(now)` is cheap enough to call every frame: it stats the file at most once per
`interval` seconds (mtime + size). On a change a worker thread reads and validates the file and
its atlas sheets with `load_layout`; a later `poll` hands the new document to the caller, who
applies it on the sketch thread (GL work). A broken, half-written or hostile file (a FIFO included:
it is refused, never read) is rejected with a logged message and the current layout stays; it is read
again as soon as it changes again. embed replaces a layout as one unit (new sheets first, then the JSON),
so a reload sees the whole old layout or the whole new one.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from layoutfile import UserError, printable
from sketches.lib.layout import load_layout

log = logging.getLogger(__name__)

Signature = tuple[int, int] | None


def file_signature(path: Path) -> Signature:
    """(mtime in ns, size) of `path`, or None when it does not exist (e.g. between unlink and rename)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class LayoutWatcher:
    """Polls one layout file; `poll(now)` returns a newly read, valid document or None."""

    def __init__(self, path: str | os.PathLike, interval: float = 1.0):
        self.path = Path(path)
        self.interval = interval
        self._signature = file_signature(self.path)
        self._next_check = float("-inf")
        self._pending: Future | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="layout-reader")

    def poll(self, now: float) -> dict | None:
        """Call from draw(); returns the new document once it has been read and validated."""
        if self._pending is not None:
            if not self._pending.done():
                return None
            future, self._pending = self._pending, None
            try:
                doc = future.result()
            except Exception as exc:  # any broken file must leave the installation running
                reason = exc if isinstance(exc, UserError) else f"{self.path}: {exc!r}"
                log.error("layout reload rejected, keeping the current layout: %s", printable(reason))
                return None
            log.info("layout reloaded from %s (%d images)", self.path, len(doc["images"]))
            return doc
        if now < self._next_check:
            return None
        self._next_check = now + self.interval
        signature = file_signature(self.path)
        if signature is None or signature == self._signature:
            return None
        self._signature = signature
        log.info("layout file %s changed; reading it", self.path)
        self._pending = self._executor.submit(load_layout, self.path)
        return None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
