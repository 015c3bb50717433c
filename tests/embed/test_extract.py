"""Decode-once extraction: outputs on generated images, the incremental cache, resuming after a kill, blur."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torchvision
from PIL import Image

import embed.decode.pil
import embed.network.models
from embed.decode.blur import blur_square
from embed.build.cache import RowStore
from embed.build.extract import extract
from embed.network.models import srgb_to_lab
from embed.options import COLOUR_BLOCKS, ExtractOptions
from embed.build.scan import scan_folder
from embed.image.square import square_thumbnail
from layoutfile import UserError

REPO = Path(__file__).resolve().parents[2]
CNN = ExtractOptions(model="mobilenet_v3_small", weights="random", kind="cnn", device="cpu", workers=0, progress=False)
LAB = ExtractOptions(kind="lab", device="cpu", workers=0, progress=False)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def records_of(make_images, n: int, folder: str = "images", **kwargs):
    made = make_images(n=n, folder=folder, **kwargs)
    records, skipped = scan_folder(made[0][0].parent, progress=False)
    assert not skipped
    return records, made


def assert_same_outputs(a, b) -> None:
    """Two extractions of the same images agree: features (to float tolerance) and colour blocks."""
    np.testing.assert_allclose(a.features, b.features, rtol=1e-4, atol=1e-4)
    assert sorted(a.colour_blocks) == sorted(b.colour_blocks)
    for r in a.colour_blocks:
        np.testing.assert_allclose(a.colour_blocks[r], b.colour_blocks[r], atol=1e-4)


@pytest.fixture
def no_network_build(monkeypatch):
    """Make building any torchvision model fail, to prove that a run does not build one."""

    def refuse(*args, **kwargs):
        raise AssertionError("a torchvision model was built")

    monkeypatch.setattr(torchvision.models, "get_model", refuse)


def test_cnn_features_thumbnails_and_colours_have_the_right_shapes_and_values(make_images, tmp_path):
    records, made = records_of(make_images, 5)

    out = extract(records, tmp_path / "cache",
                  replace(CNN, blur_radii=(0, 2, 8, 32), thumb_size=32, model="resnet18"))

    assert [r.rel for r in out.records] == [r.rel for r in records] and out.failed == []
    assert out.thumbs.shape == (5, 32, 32, 3) and out.thumbs.dtype == np.uint8
    assert out.features.shape == (5, 512) and out.features.dtype == np.float32
    assert sorted(out.colour_blocks) == [0, 2, 8, 32]
    assert all(b.shape == (5, COLOUR_BLOCKS.dims) and b.dtype == np.float32 for b in out.colour_blocks.values())
    assert out.weights_tag == "random:seed0"
    for i, (_, colour) in enumerate(made):  # solid images: every thumbnail pixel and every grid cell is the colour
        assert np.abs(out.thumbs[i].astype(int) - colour).max() <= 1
        np.testing.assert_allclose(out.colours[i], srgb_to_lab(np.array(colour)), atol=0.5)
        for blocks in out.colour_blocks.values():
            np.testing.assert_allclose(blocks[i].reshape(-1, 3), np.broadcast_to(out.colours[i], (17, 3)), atol=0.5)
    assert out.stats["computed"] == 5 and out.stats["cached"] == 0
    assert not np.allclose(out.features[0], out.features[1])   # different images, different features


def test_second_run_reads_everything_from_the_cache_without_building_the_model(make_images, tmp_path,
                                                                                 monkeypatch):
    records, _ = records_of(make_images, 4)
    first = extract(records, tmp_path / "cache", replace(CNN, blur_radii=(0, 8), thumb_size=32))

    def refuse(*args, **kwargs):
        raise AssertionError("a torchvision model was built")

    monkeypatch.setattr(torchvision.models, "get_model", refuse)
    monkeypatch.setattr(embed.decode.pil, "open_image", refuse)
    again = extract(records, tmp_path / "cache", replace(CNN, blur_radii=(0, 8), thumb_size=32))

    assert again.stats["computed"] == 0 and again.stats["cached"] == 4
    np.testing.assert_array_equal(again.features, first.features)
    for r in (0, 8):
        np.testing.assert_array_equal(again.colour_blocks[r], first.colour_blocks[r])
    np.testing.assert_array_equal(np.asarray(again.thumbs), np.asarray(first.thumbs))
    np.testing.assert_array_equal(again.colours, first.colours)


def test_adding_two_images_decodes_and_computes_only_those(make_images, tmp_path, monkeypatch):
    made = make_images(n=6)
    root = made[0][0].parent
    hidden = [made[1][0], made[4][0]]
    for path in hidden:
        path.rename(path.with_suffix(".hidden"))
    before = extract(scan_folder(root, progress=False)[0], tmp_path / "cache", replace(CNN, thumb_size=32))
    for path in hidden:
        path.with_suffix(".hidden").rename(path)
    decoded = []
    real_open = embed.decode.pil.open_image
    monkeypatch.setattr(embed.decode.pil, "open_image", lambda path, **kw: decoded.append(path) or real_open(path, **kw))

    after = extract(scan_folder(root, progress=False)[0], tmp_path / "cache", replace(CNN, thumb_size=32))

    assert sorted(decoded) == sorted(hidden)
    assert after.stats["computed"] == 2 and after.stats["cached"] == 4
    kept = [0, 2, 3, 5]
    np.testing.assert_array_equal(after.features[kept], before.features)
    np.testing.assert_array_equal(after.colour_blocks[8][kept], before.colour_blocks[8])
    fresh = extract(scan_folder(root, progress=False)[0], tmp_path / "fresh", replace(CNN, thumb_size=32))
    assert_same_outputs(after, fresh)   # same seed → same features, whatever was cached when


def test_each_image_is_decoded_once_for_thumbnail_colour_and_all_blur_levels(make_images, tmp_path, monkeypatch):
    records, _ = records_of(make_images, 3)
    decoded = []
    real_open = embed.decode.pil.open_image
    monkeypatch.setattr(embed.decode.pil, "open_image", lambda path, **kw: decoded.append(path) or real_open(path, **kw))

    extract(records, tmp_path / "cache", replace(LAB, blur_radii=(0, 2, 8, 32)))

    assert sorted(decoded) == sorted(r.path for r in records)


def test_new_blur_level_computes_only_that_level(make_images, tmp_path, no_network_build):
    records, _ = records_of(make_images, 4)
    cache = tmp_path / "cache"
    extract(records, cache, replace(LAB, blur_radii=(0, 8)))
    sizes = {p: p.stat().st_size for p in cache.glob("*/rows.bin")}

    out = extract(records, cache, replace(LAB, blur_radii=(0, 4, 8)))

    assert sorted(out.colour_blocks) == [0, 4, 8] and out.colour_blocks[4].shape == (4, COLOUR_BLOCKS.dims)
    assert out.features.shape == (4, 192)   # the 8×8 Lab grid of the original
    assert {p: p.stat().st_size for p in sizes} == sizes  # nothing appended to the old stores
    [new_store] = cache.glob("colour-blocks_*_r4_*")
    assert RowStore(new_store, dtype=np.float32).shape == (COLOUR_BLOCKS.dims,)


def test_lab_kind_needs_no_network_and_sees_colour(make_images, tmp_path, no_network_build):
    red, blue, red2, blue2 = (230, 20, 20), (20, 20, 230), (226, 24, 20), (24, 20, 226)
    records, _ = records_of(make_images, 4, colours=[red, blue, red2, blue2], shape="disc", size=(64, 48))

    out = extract(records, tmp_path / "cache", replace(LAB, blur_radii=(0, 8)))

    features = out.colour_blocks[8]
    same = np.linalg.norm(features[0] - features[2])
    different = np.linalg.norm(features[0] - features[1])
    assert 10 * same < different
    assert out.colours[0][1] > 20 and out.colours[1][2] < -20  # red: a* > 0; blue: b* < 0


def test_images_that_fail_to_decode_are_listed_and_left_out(make_images, tmp_path):
    records, _ = records_of(make_images, 4)
    records[2].path.write_bytes(b"changed since the scan")  # passes the scan, fails the full decode

    out = extract(records, tmp_path / "cache", replace(LAB, blur_radii=(0, 8)))

    assert out.failed == [(records[2].rel, "not an image")]
    assert [r.rel for r in out.records] == [records[i].rel for i in (0, 1, 3)]
    assert out.thumbs.shape[0] == 3 and out.features.shape[0] == 3 and out.colour_blocks[8].shape[0] == 3 and out.colours.shape[0] == 3
    assert out.stats["failed"] == 1 and out.stats["computed"] == 3


def test_interrupted_run_resumes_computing_only_the_rest(make_images, tmp_path, monkeypatch):
    records, _ = records_of(make_images, 6)
    cache = tmp_path / "cache"
    real_append = RowStore.append
    calls = []

    def append_then_interrupt(self, ids, rows):
        real_append(self, ids, rows)
        calls.append(self.folder.name)
        if calls.count(calls[0]) == 3:  # Ctrl-C after the third batch of 2 images was written
            raise KeyboardInterrupt

    monkeypatch.setattr(RowStore, "append", append_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        extract(records, cache, replace(CNN, batch_size=2, thumb_size=32))
    monkeypatch.setattr(RowStore, "append", real_append)

    resumed = extract(records, cache, replace(CNN, batch_size=2, thumb_size=32))

    assert resumed.stats["cached"] == 4 and resumed.stats["computed"] == 2
    clean = extract(records, tmp_path / "clean", replace(CNN, batch_size=2, thumb_size=32))
    assert_same_outputs(resumed, clean)


KILLED_RUN = """
import sys
from pathlib import Path
from embed.build.extract import extract
from embed.options import COLOUR_BLOCKS, ExtractOptions
from embed.build.scan import scan_folder
records = scan_folder(Path(sys.argv[1]), progress=False)[0]
extract(records, sys.argv[2], ExtractOptions(model="mobilenet_v3_small", weights="random", kind="cnn", device="cpu",
                                             workers=0, batch_size=1, thumb_size=32, blur_radii=(0, 8), progress=False))
"""


def test_run_killed_with_sigkill_resumes_losing_at_most_one_batch(make_images, tmp_path):
    records, _ = records_of(make_images, 24)
    cache = tmp_path / "cache"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(records[0].path.parent), str(cache)],
                            cwd=REPO, env=env)
    ids_file = cache / "colour-blocks_g1-4_r8_s32_s224_crop" / "ids.txt"  # the last store each batch writes
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if ids_file.exists() and ids_file.read_bytes().count(b"\n") >= 4:
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"

    resumed = extract(records, cache, replace(CNN, batch_size=4, thumb_size=32, blur_radii=(0, 8)))

    assert 4 <= resumed.stats["cached"] < 24
    assert resumed.stats["computed"] == 24 - resumed.stats["cached"]
    clean = extract(records, tmp_path / "clean", replace(CNN, batch_size=4, thumb_size=32, blur_radii=(0, 8)))
    assert_same_outputs(resumed, clean)
    np.testing.assert_array_equal(np.asarray(resumed.thumbs), np.asarray(clean.thumbs))


def high_frequency_energy(image: np.ndarray) -> float:
    """Mean squared difference between horizontally and vertically adjacent pixels."""
    grey = image.astype(np.float64).mean(axis=2)
    return float((np.diff(grey, axis=0) ** 2).mean() + (np.diff(grey, axis=1) ** 2).mean())


def test_blur_removes_more_fine_detail_as_the_radius_grows():
    checker = np.kron((np.indices((28, 28)).sum(axis=0) % 2) * 255, np.ones((8, 8)))  # 224 px, 8-px squares
    square = np.repeat(checker[:, :, None], 3, axis=2).astype(np.uint8)
    energies = [high_frequency_energy(blur_square(square, r, 224)) for r in (0, 2, 8, 32)]
    assert energies[0] > 2 * energies[1] > 0 and energies[1] > 10 * energies[2] and energies[2] > energies[3]
    assert abs(blur_square(square, 32, 224).mean() - square.mean()) < 3  # blur keeps the mean colour


def test_blur_radius_is_relative_to_image_size():
    """The same level blurs a 448-px image twice as many pixels as a 224-px one: same look, scaled."""
    rng = np.random.default_rng(0)
    small = np.asarray(Image.fromarray(rng.integers(0, 256, (56, 56, 3), dtype=np.uint8)).resize((224, 224)))
    large = np.asarray(Image.fromarray(small).resize((448, 448), Image.Resampling.BICUBIC))
    blurred_small = blur_square(small, 8, 224)
    blurred_large = np.asarray(Image.fromarray(blur_square(large, 8, 448)).resize((224, 224)))
    assert np.abs(blurred_small.astype(int) - blurred_large).mean() < 2
    unrelated = blur_square(small, 2, 224)
    assert np.abs(unrelated.astype(int) - blurred_large).mean() > 5


def test_thumbnails_are_the_square_thumbnails_of_the_image(make_images, tmp_path):
    records, _ = records_of(make_images, 2, shape="disc", size=(90, 60), ext=".jpg")
    out = extract(records, tmp_path / "cache", replace(LAB, blur_radii=(0,), thumb_size=48, fit="pad"))
    for i, rec in enumerate(records):
        expected = square_thumbnail(Image.open(rec.path).convert("RGB"), 48, "pad", (255, 255, 255))
        assert np.abs(out.thumbs[i].astype(int) - expected).max() <= 2


def test_bad_options_are_one_line_errors(make_images, tmp_path):
    records, _ = records_of(make_images, 1)
    for options, words in (({"fit": "stretch"}, "fit"), ({"batch_size": 0}, "batch size"),
                           ({"workers": -1}, "--workers"), ({"kind": "sift"}, "feature kind"),
                           ({"image_path": "gpu"}, "image path")):
        with pytest.raises(UserError, match=words):
            extract(records, tmp_path / "cache", replace(LAB, **options))


def test_network_features_of_blurred_copies_are_cached_per_level(make_images, tmp_path, monkeypatch):
    records, _ = records_of(make_images, 4, shape="disc", size=(90, 60))
    options = replace(CNN, network_levels=(0, 8), blur_radii=(8,), thumb_size=32)

    out = extract(records, tmp_path / "cache", options)

    assert sorted(out.network) == [0, 8] and out.features is out.network[0]
    assert all(f.shape == (4, 1024) and f.dtype == np.float32 for f in out.network.values())
    scale = np.abs(out.network[0]).max()   # random weights: tiny activations
    assert np.abs(out.network[0] - out.network[8]).max() > 0.01 * scale   # the blurred copies' features differ
    alone = extract(records, tmp_path / "level8", replace(options, network_levels=(8,)))
    assert alone.features is None
    np.testing.assert_allclose(alone.network[8], out.network[8], rtol=1e-4, atol=1e-4 * scale)

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(embed.network.models.CnnModel, "load", refuse)
    again = extract(records, tmp_path / "cache", options)

    assert again.stats["computed"] == 0 and again.stats["cached"] == 4
    for level in (0, 8):
        np.testing.assert_array_equal(again.network[level], out.network[level])
    assert len(list((tmp_path / "cache").glob("features_*_r8_*"))) == 1


def test_a_new_network_level_computes_only_that_level(make_images, tmp_path, monkeypatch):
    records, _ = records_of(make_images, 3, shape="disc", size=(90, 60))
    first = extract(records, tmp_path / "cache", replace(CNN, thumb_size=32))
    inputs = []
    real_load = embed.network.models.CnnModel.load

    def counting_load(self, *args, **kwargs):
        net = real_load(self, *args, **kwargs)
        return lambda batch: inputs.append(len(batch)) or net(batch)

    monkeypatch.setattr(embed.network.models.CnnModel, "load", counting_load)
    out = extract(records, tmp_path / "cache", replace(CNN, thumb_size=32, network_levels=(0, 4)))

    assert inputs == [3]   # the three level-4 copies; the originals' features came from the cache
    np.testing.assert_array_equal(out.network[0], first.features)
