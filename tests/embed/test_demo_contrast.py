"""The artwork's contrast on the bundled demo (its 14 folders are the labels), with the default model, offline:
the blur layout sorts by colour, the combined layout groups objects.

Thresholds from measurements (docs/features.md): on the demo, seed 0, blur colour ratio 0.32 and category ratio
1.8, combined 0.60 and 3.0; over 90 % subsets of the demo the blur colour ratio varies by ±0.01 and the combined
category ratio by ±0.2. Random weights give combined category 1.7 and plain Lab colour 1.8 (so losing the
pretrained weights fails here); the old recipe's CNN-on-blurred-copies blur layout gave colour 0.56–0.72.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from embed.info import describe_layout
from embed.options import DEFAULT_MODEL, BuildOptions
from embed.build.pipeline import run_build
from layoutfile import read_layout

DEMO_IMAGES = Path(__file__).resolve().parents[2] / "assets" / "demo" / "images"


@pytest.fixture(scope="module")
def demo_layout(tmp_path_factory) -> Path:
    """The demo laid out with every default but small atlases, with any attempt to open a connection failing."""
    out = tmp_path_factory.mktemp("demo") / "demo.json"

    def offline(*args, **kwargs):
        raise OSError("network access attempted in an offline build")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", offline)
        run_build(BuildOptions(images=DEMO_IMAGES, output=out, atlas_cells=(8,), quiet=True))
    return out


def metrics(path: Path) -> dict[str, dict]:
    return {name: layout["metrics"] for name, layout in read_layout(path)["layouts"].items()}


def test_the_default_build_uses_the_packaged_pretrained_model(demo_layout):
    params = read_layout(demo_layout)["params"]
    assert params["model"] == DEFAULT_MODEL and params["weights"] == "efficientnet-lite0-57934424.pth"


def test_blur_layout_is_colour_smooth_and_smoother_than_the_combined(demo_layout):
    blur, combined = metrics(demo_layout)["blur"], metrics(demo_layout)["combined"]
    assert blur["colour_ratio"] <= 0.40
    assert blur["colour_ratio"] <= 0.75 * combined["colour_ratio"]


def test_combined_layout_groups_the_categories_more_than_the_blur(demo_layout):
    blur, combined = metrics(demo_layout)["blur"], metrics(demo_layout)["combined"]
    assert combined["category_ratio"] >= 2.4
    assert combined["category_ratio"] >= 1.3 * blur["category_ratio"]
    assert blur["random_same_category"] == combined["random_same_category"] == pytest.approx(0.0853, abs=1e-4)


def test_info_reports_the_category_ratio_of_each_layout(demo_layout):
    lines = [line for line in describe_layout(demo_layout).splitlines() if line.startswith("layout ")]
    assert len(lines) == 2 and all("category_ratio=" in line and "colour_ratio=" in line for line in lines)
