"""The hovered image from its original file, decoded on a thread: the sharpest picture the hover panel can show.

The atlas's sharpest cell (128 px by default) is drawn at once; the original, when its file is there
(`layoutfile.image_path`: confined below the layout's source folder; only regular files are opened), is
decoded off the frame at the panel's pixel size and replaces it. Decoding is bounded: JPEGs are decoded
at the smallest DCT scale that still covers the panel (`draft`), and a file whose header says more than
MAX_PIXELS is refused unread. The picture is framed as the atlas cells are (the layout's `fit`: centre crop,
or letterboxed on white), so nothing jumps when it arrives.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from layoutfile import open_regular

MAX_PIXELS = 200_000_000   # larger originals are not decoded for hover (the atlas cell stays)


def decode_original(path: Path, side: int, fit: str = "crop") -> np.ndarray:
    """(side, side, 3) uint8 picture of the image file `path`, framed by `fit` ("crop" or "pad");
    raises OSError or ValueError when it cannot be read."""
    with open_regular(path) as file, Image.open(file) as img:
        if img.width * img.height > MAX_PIXELS:
            raise ValueError(f"{img.width}x{img.height} px is more than {MAX_PIXELS:,} pixels")
        img.draft("RGB", (side, side))
        img = ImageOps.exif_transpose(img)
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            img = Image.new("RGB", rgba.size, (255, 255, 255))
            img.paste(rgba, mask=rgba.getchannel("A"))
        img = img.convert("RGB")
        framed = (ImageOps.pad(img, (side, side), Image.Resampling.LANCZOS, color=(255, 255, 255)) if fit == "pad"
                  else ImageOps.fit(img, (side, side), Image.Resampling.LANCZOS))
        return np.asarray(framed, dtype=np.uint8)


class OriginalLoader:
    """Decodes one original at a time on a daemon thread: the latest request wins; the last result is kept."""

    def __init__(self, side: int, fit: str = "crop") -> None:
        self.side, self.fit = side, fit
        self._wanted: tuple[int, Path] | None = None
        self._done: tuple[int, np.ndarray | None] | None = None   # (index, picture or None when it failed)
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def request(self, index: int, path: Path | None) -> None:
        """Decode images[index]'s original at `path` (replaces a request not started yet); None (no original
        may be opened) counts as failed at once."""
        with self._wake:
            if self._done is not None and self._done[0] == index:
                return
            if path is None:
                self._done, self._wanted = (index, None), None
                return
            self._wanted = (index, path)
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name="hover-original", daemon=True)
                self._thread.start()
            self._wake.notify()

    def get(self, index: int) -> np.ndarray | None:
        """images[index]'s picture once decoded."""
        done = self._done
        return done[1] if done is not None and done[0] == index else None

    def failed(self, index: int) -> bool:
        """True when images[index]'s original could not be read (missing, not a regular file, damaged, huge)."""
        done = self._done
        return done is not None and done[0] == index and done[1] is None

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and self._wanted is None:
                    self._wake.wait()
                if self._stopped:
                    return
                (index, path), self._wanted = self._wanted, None
            try:
                picture = decode_original(path, self.side, self.fit)
            except Exception:   # any reason the file cannot be shown: the atlas cell stays (PIL raises many kinds)
                picture = None
            with self._wake:
                self._done = (index, picture)
