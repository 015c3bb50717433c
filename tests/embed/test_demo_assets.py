"""The bundled demo layout is a valid contract file whose atlas cells show its images and whose t-SNE state
shows every image."""

from pathlib import Path

import numpy as np
from PIL import Image

from embed.image.file import open_image
from embed.image.square import square_thumbnail
from embed.core.metrics import display_metrics, meets_display_targets
from layoutfile import VERSION, display_arrays, layout_arrays, read_layout

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assets" / "layouts" / "demo.json"


def test_demo_layout_points_at_the_demo_images_and_its_atlas_cells_show_them():
    doc = read_layout(DEMO)
    source = Path(doc["params"]["source"])
    assert source == ROOT / "assets" / "demo" / "images"
    assert len(doc["images"]) > 300
    assert all((source / image["path"]).is_file() for image in doc["images"])
    for level in doc["atlas"]["levels"]:
        cell, per_side = level["cell_px"], level["sheet_px"] // level["cell_px"]
        sheets = [np.asarray(Image.open(DEMO.parent / f).convert("RGB"), dtype=np.float32) for f in level["files"]]
        for image in doc["images"][::37]:
            c = image["atlas_cell"]
            x, y = (c % per_side) * cell, (c // per_side) * cell
            shown = sheets[image["atlas_sheet"]][y:y + cell, x:x + cell]
            expected = square_thumbnail(open_image(source / image["path"], max_side=4 * cell), cell, doc["params"]["fit"])
            assert np.abs(shown.mean((0, 1)) - expected.reshape(-1, 3).mean(0)).max() < 6, image["path"]


def test_demo_layout_shows_every_image_in_its_tsne_state():
    doc = read_layout(DEMO)
    assert doc["version"] == VERSION
    for name in ("blur", "combined"):
        tsne, _ = layout_arrays(doc, name)
        display, size = display_arrays(doc, name)
        metrics = display_metrics(tsne, display, size, doc["grid"]["cols"], doc["grid"]["rows"])
        assert meets_display_targets(metrics), (name, metrics)
