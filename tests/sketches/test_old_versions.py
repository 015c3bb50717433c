"""Layout files of contract versions 1 and 2 still load everywhere: embed info, embed poster and the gallery."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from layoutfile import layout_names, read_layout
from tests.sketches.conftest import COLOURS, ROOT, grid_world, make_layout
from tests.sketches.test_gallery import TOLERANCE

GALLERY = ROOT / "sketches" / "gallery.py"


def older(path, version: int):
    """The layout file at `path` rewritten as a version-1 or version-2 file beside it."""
    doc = json.loads(path.read_text())
    doc.pop("layout_order")
    for layout in doc["layouts"].values():
        layout.pop("recipe", None)
        if version == 1:
            layout.pop("tsne_display", None)
            layout.pop("tsne_image_size", None)
    if version == 1:
        for level in doc["atlas"]["levels"]:
            level.pop("bytes", None)
            level.pop("blake2b", None)
    doc["version"] = version
    doc["layouts"] = {"combined": doc["layouts"]["combined"], "blur": doc["layouts"]["blur"]}   # file order differs
    out = path.with_name(f"v{version}.json")
    out.write_text(json.dumps(doc))
    return out


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_file_reads_in_blur_combined_order_and_draws_in_the_gallery(tmp_path, version):
    path = older(make_layout(tmp_path), version)
    assert layout_names(read_layout(path)) == ["blur", "combined"]
    info = subprocess.run([sys.executable, "-m", "embed", "info", str(path)], capture_output=True, text=True,
                          timeout=60)
    assert info.returncode == 0 and f"v{version}" in info.stdout and "layout blur" in info.stdout, info.stderr
    out = tmp_path / f"v{version}.png"
    shot = subprocess.run([sys.executable, str(GALLERY), str(path), "--snapshot", str(out), "--state", "grid",
                           "--size", "480x270"], capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0, shot.stderr
    pixels = np.asarray(Image.open(out).convert("RGB")).astype(int)
    scale = 270 * 0.94 / 3          # the 4 x 3 world box fitted to the height, centred
    for world, colour in zip(grid_world("blur"), COLOURS):
        x, y = 240 + (world[0] - 2) * scale, 135 + (world[1] - 1.5) * scale
        assert np.abs(pixels[int(y), int(x)] - colour).max() <= TOLERANCE
