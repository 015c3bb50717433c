"""sketches/examples/fly_between.py, the artists' starting point, run headless on the committed demo layout."""

import subprocess
import sys

import numpy as np
from PIL import Image
from tests.sketches.conftest import ROOT

EXAMPLE = ROOT / "sketches" / "examples" / "fly_between.py"
DEMO = ROOT / "assets" / "layouts" / "demo.json"
BACKGROUND = 24


def snapshot(tmp_path, frames: int, *names: str) -> np.ndarray:
    out = tmp_path / f"frame{frames}.png"
    result = subprocess.run([sys.executable, str(EXAMPLE), str(DEMO), *names, "--frames", str(frames),
                             "--snapshot", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "X11Util" not in result.stderr
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def test_the_example_draws_the_images_and_flies_them(tmp_path):
    still = snapshot(tmp_path, 2)                       # at rest in the first layout (the fly starts at 1 s)
    flying = snapshot(tmp_path, 60)                     # 1 s into the fly to the last layout
    for pixels in (still, flying):
        assert pixels.shape == (540, 960, 3)
        assert (np.abs(pixels - BACKGROUND).max(axis=2) > 10).mean() > 0.15   # images, not just background
    assert np.abs(flying - still).max(axis=2).mean() > 20


def test_the_example_names_a_missing_layout_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLE), str(DEMO), "blur", "nope"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {DEMO}: no layout named 'nope'; its layouts: blur, combined"
