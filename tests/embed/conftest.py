"""Shared fixtures: folders of generated images with known colours, and known-bad image files."""

from __future__ import annotations

import colorsys
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw


def distinct_colours(n: int) -> list[tuple[int, int, int]]:
    """`n` well-separated saturated colours (hues spread round the wheel, two brightness levels)."""
    colours = []
    for i in range(n):
        r, g, b = colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.9, 0.95 if i % 2 == 0 else 0.6)
        colours.append((round(r * 255), round(g * 255), round(b * 255)))
    return colours


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG signature + IHDR (1-bit grey) + IEND: a tiny file that claims width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.fixture
def make_images(tmp_path: Path):
    """Factory: write images of known colours into `tmp_path / folder`; return [(path, colour)].

    make_images(colours=None, n=6, folder="images", size=(48, 32), ext=".png", shape="solid")
    shape "solid" fills the image with the colour; "disc" draws a disc of it on white.
    Files are named img_000<ext>, img_001<ext>, ... in colour order.
    """

    def make(colours: list[tuple[int, int, int]] | None = None, *, n: int = 6, folder: str = "images",
             size: tuple[int, int] = (48, 32), ext: str = ".png", shape: str = "solid") -> list[tuple[Path, tuple]]:
        colours = colours if colours is not None else distinct_colours(n)
        root = tmp_path / folder
        root.mkdir(parents=True, exist_ok=True)
        made = []
        for i, colour in enumerate(colours):
            if shape == "solid":
                img = Image.new("RGB", size, colour)
            else:
                img = Image.new("RGB", size, (255, 255, 255))
                w, h = size
                ImageDraw.Draw(img).ellipse([w * 0.15, h * 0.15, w * 0.85, h * 0.85], fill=colour)
            path = root / f"img_{i:03d}{ext}"
            img.save(path, quality=95) if ext.lower() in (".jpg", ".jpeg", ".webp") else img.save(path)
            made.append((path, colour))
        return made

    return make


@pytest.fixture
def make_bad_files(tmp_path: Path):
    """Factory: write known-bad image files into `tmp_path / folder`; return {file name: expected reason start}.

    zero.jpg (empty), text.jpg (text), truncated.jpg (JPEG cut in half), truncated.png (PNG cut),
    bomb.png (a valid PNG header claiming 20000 x 20000 pixels; 400M > the default limit).
    """

    def make(folder: str = "images") -> dict[str, str]:
        root = tmp_path / folder
        root.mkdir(parents=True, exist_ok=True)
        (root / "zero.jpg").write_bytes(b"")
        (root / "text.jpg").write_text("this is not a picture\n")
        noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        for ext, fmt in (("jpg", "JPEG"), ("png", "PNG")):
            buffer = io.BytesIO()
            Image.fromarray(noise).save(buffer, fmt)
            (root / f"truncated.{ext}").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        (root / "bomb.png").write_bytes(_png_header_only(20000, 20000))
        return {"zero.jpg": "zero bytes", "text.jpg": "not an image", "truncated.jpg": "truncated JPEG",
                "truncated.png": "truncated PNG", "bomb.png": "too large"}

    return make


@pytest.fixture
def one_torch_thread():
    """Tiny batches: one thread is as fast, and immune to OpenMP oversubscription on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True, scope="session")
def onnx_exports_in_a_session_folder(tmp_path_factory):
    """ONNX exports (embed/network/onnx_engine.py) go to a folder of this test session, never the user's cache; each
    model is exported once per session."""
    import os

    from embed.network.onnx_engine import CACHE_VARIABLE

    before = os.environ.get(CACHE_VARIABLE)
    os.environ[CACHE_VARIABLE] = str(tmp_path_factory.mktemp("onnx-exports"))
    yield
    if before is None:
        del os.environ[CACHE_VARIABLE]
    else:
        os.environ[CACHE_VARIABLE] = before
