"""The hover panel's picture from the original file: framed like the atlas cells, bounded, regular files only."""

import os
import time

import numpy as np
import pytest
from PIL import Image

from sketches.lib import original
from sketches.lib.original import OriginalLoader, decode_original


def photo(path, size=(400, 200)):
    """A landscape JPEG: red left quarter, green middle half, blue right quarter."""
    pixels = np.zeros((size[1], size[0], 3), np.uint8)
    pixels[:, :size[0] // 4] = (220, 20, 20)
    pixels[:, size[0] // 4:3 * size[0] // 4] = (20, 200, 20)
    pixels[:, 3 * size[0] // 4:] = (20, 20, 220)
    Image.fromarray(pixels).save(path, quality=95)
    return path


def test_the_original_is_framed_like_the_atlas_cells(tmp_path):
    path = photo(tmp_path / "wide.jpg")
    crop = decode_original(path, 96, "crop").astype(int)        # the centre square: the green half
    assert crop.shape == (96, 96, 3) and np.abs(crop[48, 5] - (20, 200, 20)).max() < 20
    pad = decode_original(path, 96, "pad").astype(int)          # the whole picture, letterboxed on white
    assert np.abs(pad[2, 48] - 255).max() < 5 and np.abs(pad[48, 5] - (220, 20, 20)).max() < 25


def test_fifos_missing_and_huge_files_are_refused(tmp_path, no_hang, monkeypatch):
    fifo = tmp_path / "fifo.jpg"
    os.mkfifo(fifo)
    with pytest.raises(OSError):
        decode_original(fifo, 64)                               # never opened for reading: no hang
    monkeypatch.setattr(original, "MAX_PIXELS", 1000)
    with pytest.raises(ValueError, match="more than"):
        decode_original(photo(tmp_path / "big.jpg"), 64)
    loader = OriginalLoader(64)
    loader.request(3, tmp_path / "missing.jpg")
    for _ in range(200):
        if loader.failed(3):
            break
        time.sleep(0.01)
    assert loader.failed(3) and loader.get(3) is None
    monkeypatch.undo()
    loader.request(4, photo(tmp_path / "ok.jpg", (100, 100)))
    for _ in range(200):
        if loader.get(4) is not None:
            break
        time.sleep(0.01)
    assert loader.get(4).shape == (64, 64, 3) and not loader.failed(4)
    loader.request(5, None)                                     # no original may be opened: failed at once
    assert loader.failed(5)
    loader.stop()
