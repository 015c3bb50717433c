"""The batched image path (embed.decode.tensor, embed.decode.tensor_image) against the PIL path, on generated JPEGs.

Tolerances, from measurements on these images (grey levels of 0–255):
- images small enough that PIL decodes them at full scale: every pixel of the thumbnail, the network
  input and the blurred squares within 2 levels (both paths do the same resampling; only the fixed-point
  rounding differs), colours and colour blocks within 0.5 ΔE;
- larger JPEGs, which PIL decodes at 1/2–1/8 scale with libjpeg's scaled IDCT and the batched path
  reduces by block means: mean |Δ| ≤ 1 level, differences above 8 levels on ≤ 1 % of the pixels (sharp
  edges), mean colours and colour blocks within 1 ΔE, features per image at cosine similarity ≥ 0.999;
- on CUDA (nvJPEG decodes and upsamples chroma its own way) the same bounds, but cosine ≥ 0.998.
(With the pretrained default model instead of the tests' random one, the large JPEGs' features agree
at cosine 0.9988–1.0000, measured on CPU.)
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import embed.decode.tensor
from PIL import Image, ImageFilter, ImageOps

from embed.decode.blur import blur_square
from embed.decode import DecodePlan
from embed.decode.pil import pil_batches
from embed.decode.tensor import blurred, prepared_batches
from embed.build.extract import extract
from embed.options import ExtractOptions
from embed.build.scan import scan_folder
from embed.decode.tensor_image import box_reduce, exif_orient, pil_gaussian_blur, resample, resample_weights

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CNN = ExtractOptions(model="mobilenet_v3_small", weights="random", device="cpu", workers=0, progress=False,
                     blur_radii=(0, 2, 8, 32))
PLAN = DecodePlan(thumb_size=128, fit="crop", background=(255, 255, 255), base_size=224,
                  levels=(0.0, 2.0, 8.0, 32.0), network_levels=(0.0, 8.0))
SIDE = PLAN.block_side   # of the blurred squares
ORIENTATION = 0x0112


def photo(width: int, height: int, seed: int) -> Image.Image:
    """A photo-like RGB image: smooth colour waves, a sharp-edged disc and sensor noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    pixels = np.zeros((height, width, 3))
    for c in range(3):
        a, b, phase = rng.uniform(-1, 1, 3)
        pixels[..., c] = 128 + 90 * np.sin(6 * (a * xx + b * yy) + phase)
    cy, cx, radius = rng.uniform(0.2, 0.5), rng.uniform(0.2, 0.5), rng.uniform(0.1, 0.2)
    pixels[(yy - cy) ** 2 + (xx - cx) ** 2 < radius ** 2] = rng.uniform(0, 255, 3)
    pixels += rng.normal(0, 12, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def save_jpeg(img: Image.Image, path: Path, orientation: int = 1, **kwargs) -> Path:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    img.save(path, quality=90, exif=exif.tobytes(), **kwargs)
    return path


SMALL = [(97, 61, 1, "RGB"), (61, 97, 6, "RGB"), (150, 113, 2, "RGB"), (131, 200, 3, "L"), (120, 77, 4, "RGB"),
         (90, 140, 5, "RGB"), (143, 99, 7, "RGB"), (100, 100, 8, "L"), (224, 150, 1, "RGB")]
LARGE = [(1600, 1200, 1, "RGB"), (1200, 1600, 1, "RGB"), (1600, 1200, 6, "RGB"), (1000, 750, 8, "RGB"),
         (800, 600, 3, "L"), (641, 481, 5, "RGB"), (2100, 900, 1, "RGB"), (512, 512, 1, "RGB")]


def make_jpegs(folder: Path, specs: list[tuple[int, int, int, str]], **kwargs) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    for k, (width, height, orientation, mode) in enumerate(specs):
        save_jpeg(photo(width, height, k).convert(mode), folder / f"img_{k:02d}.jpg", orientation, **kwargs)
    records, skipped = scan_folder(folder, progress=False)
    assert not skipped
    return records


def items_both_ways(records, plan, device=torch.device("cpu"), batch_size=4, decode_in_readers=None):
    """Per image (index, reason, (thumb, colour, network inputs, colour blocks)) from the PIL and the batched
    path, the batched one through the same Batch type the PIL path's batches have."""
    pil = pil_batches(records, plan, batch_size, workers=2)
    batches = prepared_batches(records, plan, device, batch_size, readers=2, decode_in_readers=decode_in_readers)
    return [item for batch in pil for item in unstacked(batch)], [item for batch in batches for item in unstacked(batch)]


def unstacked(batch) -> list[tuple]:
    """A Batch's rows back as per-image items, failures in their places."""
    items = [(i, reason, None) for i, reason in batch.failed]
    items += [(int(i), None, (batch.thumbs[k], batch.colours[k], {r: v[k] for r, v in batch.inputs.items()},
                              {r: v[k] for r, v in batch.blocks.items()})) for k, i in enumerate(batch.index)]
    return sorted(items, key=lambda item: item[0])


def assert_images_close(a: np.ndarray, b: np.ndarray, *, max_diff: int | None = None, mean: float = 1.0,
                        over_8: float = 0.01) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    diff = np.abs(a.astype(int) - b.astype(int))
    if max_diff is not None:
        assert diff.max() <= max_diff, diff.max()
    assert diff.mean() <= mean, diff.mean()
    assert (diff > 8).mean() <= over_8, (diff > 8).mean()


def assert_same_results(pil, other, records, cosine_at_least: float = 0.999) -> None:
    """Same images kept; thumbnails, colours and colour blocks close; features at cosine ≥ 0.999 image by image."""
    assert other.failed == [] and [r.rel for r in other.records] == [r.rel for r in records]
    assert_images_close(np.asarray(pil.thumbs), np.asarray(other.thumbs), mean=1.0)
    assert np.linalg.norm(pil.colours - other.colours, axis=1).max() <= 1.0
    for radius, blocks in pil.colour_blocks.items():
        assert np.abs(blocks - other.colour_blocks[radius]).max() <= 1.0, radius
    ours, theirs = pil.features, other.features
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cosine.min() >= cosine_at_least, cosine.min()


@pytest.mark.parametrize("fit", ["crop", "pad"])
def test_small_images_match_the_pil_path_to_two_levels(tmp_path, fit):
    records = make_jpegs(tmp_path / "small", SMALL)
    plan = replace(PLAN, fit=fit, background=(10, 200, 30))

    pil, batched = items_both_ways(records, plan)

    for rec, (i, reason, made), (j, batch_reason, got) in zip(records, pil, batched):
        assert (i, reason, batch_reason) == (j, None, None), rec.rel
        assert_images_close(made[0], got[0], max_diff=2, mean=0.2)     # thumbnail
        np.testing.assert_allclose(got[1], made[1], atol=0.5)         # mean colour
        for level in plan.network_levels:                              # network inputs, original and blurred
            assert_images_close(made[2][level], got[2][level], max_diff=2, mean=0.2)
        square = torch.from_numpy(made[2][0.0].copy()).permute(2, 0, 1)[None].float()
        for radius in plan.levels:
            small = blurred(square, radius, SIDE)[0].permute(1, 2, 0).numpy().astype(np.uint8)
            assert_images_close(blur_square(made[2][0.0], radius, SIDE), small, max_diff=2, mean=0.2)
            np.testing.assert_allclose(got[3][radius], made[3][radius], atol=0.5)   # colour blocks (Lab)


def test_camera_sized_jpegs_match_the_pil_path_in_thumbnails_colours_and_features(tmp_path):
    records = make_jpegs(tmp_path / "large", LARGE)

    pil = extract(records, tmp_path / "pil", replace(CNN, image_path="pil"))
    batched = extract(records, tmp_path / "batch", replace(CNN, image_path="batch", batch_size=3))

    assert_same_results(pil, batched, records)
    pil_items, batch_items = items_both_ways(records, PLAN)   # the network inputs themselves
    for (_, _, made), (_, _, got) in zip(pil_items, batch_items):
        for level in PLAN.network_levels:
            assert_images_close(made[2][level], got[2][level], mean=1.0)


def test_other_formats_and_cmyk_jpegs_take_the_pil_path_unchanged(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    photo(90, 60, 1).save(folder / "a.png")
    photo(90, 60, 2).convert("CMYK").save(folder / "b.jpg", quality=90)
    photo(90, 60, 3).save(folder / "c.webp", quality=90)
    save_jpeg(photo(90, 60, 4), folder / "d.jpg")
    records, _ = scan_folder(folder, progress=False)

    pil, batched = items_both_ways(records, PLAN)

    for (_, _, made), (_, _, got), rec in zip(pil[:3], batched[:3], records):
        for mine, theirs in zip(made[:2], got[:2]):   # the very same code made them
            np.testing.assert_array_equal(mine, theirs, err_msg=rec.rel)
        for parts in (2, 3):
            for level in made[parts]:
                np.testing.assert_array_equal(made[parts][level], got[parts][level], err_msg=rec.rel)
    assert_images_close(pil[3][2][0], batched[3][2][0], max_diff=2, mean=0.2)


@pytest.mark.parametrize("decode_in_readers", [True, False], ids=["decoded-one-by-one", "decoded-as-a-batch"])
def test_a_corrupt_jpeg_in_a_batch_is_listed_and_the_others_are_processed(tmp_path, monkeypatch, decode_in_readers):
    """As a batch (the GPU's way) the decode fails whole, then image by image; the bad files take the PIL path."""
    records = make_jpegs(tmp_path / "images", [(160, 120, 1, "RGB")] * 5 + [(120, 160, 6, "RGB")])
    data = records[2].path.read_bytes()
    records[2].path.write_bytes(data[:len(data) // 2])          # truncated after the scan
    records[4].path.write_bytes(b"\xff\xd8\xff" + b"not really a JPEG" * 10)

    pil = extract(records, tmp_path / "pil", replace(CNN, image_path="pil", blur_radii=(0, 8)))
    batched = extract(records, tmp_path / "batch", replace(CNN, image_path="batch", blur_radii=(0, 8), batch_size=6))

    assert [rel for rel, _ in batched.failed] == [records[2].rel, records[4].rel]
    assert batched.failed == pil.failed
    assert batched.failed[0][1].startswith("truncated JPEG")
    assert [r.rel for r in batched.records] == [records[i].rel for i in (0, 1, 3, 5)]
    assert batched.stats["computed"] == 4 and batched.stats["failed"] == 2
    assert_images_close(np.asarray(pil.thumbs), np.asarray(batched.thumbs), max_diff=2, mean=0.2)
    calls = []
    real_decode = embed.decode.tensor.decode_jpeg
    monkeypatch.setattr(embed.decode.tensor, "decode_jpeg",
                        lambda data, **kw: calls.append(len(data)) or real_decode(data, **kw))
    pil_items, batch_items = items_both_ways(records, PLAN, batch_size=6, decode_in_readers=decode_in_readers)
    # the text file never reaches the decoder (PIL rejects its header); the truncated one fails a batch of 5
    assert sorted(calls) == ([1] * 5 if decode_in_readers else [1] * 5 + [5])
    assert [item[:2] for item in batch_items] == [item[:2] for item in pil_items]   # the same failures, in order
    for made, got in zip(pil_items, batch_items):
        if made[2] is not None:
            assert_images_close(made[2][2][0.0], got[2][2][0.0], max_diff=2, mean=0.2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_batches_match_the_pil_path(tmp_path):
    records = make_jpegs(tmp_path / "large", LARGE + SMALL)
    records += make_jpegs(tmp_path / "progressive", LARGE[:2], progressive=True)

    pil = extract(records, tmp_path / "pil", replace(CNN, image_path="pil"))
    cuda = extract(records, tmp_path / "cuda", replace(CNN, image_path="batch", device="cuda", batch_size=8))

    assert_same_results(pil, cuda, records, cosine_at_least=0.998)


# ------------------------------------------------------------------ the tensor operations against Pillow

NOISE = np.random.default_rng(0).integers(0, 256, (67, 91, 3), dtype=np.uint8)


def as_batch(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1)[None].float()


def as_image(x: torch.Tensor) -> np.ndarray:
    return x[0].permute(1, 2, 0).numpy().astype(np.uint8)


@pytest.mark.parametrize("kind, method", [("bilinear", Image.Resampling.BILINEAR),
                                          ("lanczos", Image.Resampling.LANCZOS)])
@pytest.mark.parametrize("size, box", [(32, (10.5, 0, 77.5, 67)), (50, (0, 0, 91, 67)), (120, (3, 2.25, 60, 61))])
def test_resampling_matches_pillow_with_a_box(kind, method, size, box):
    expected = np.asarray(Image.fromarray(NOISE).resize((size, size), method, box=box))
    got = resample(as_batch(NOISE), resample_weights(67, size, (box[1], box[3]), kind),
                   resample_weights(91, size, (box[0], box[2]), kind))
    assert np.abs(as_image(got).astype(int) - expected).max() <= 1


@pytest.mark.parametrize("sigma", [2.0, 5.5, 16.0])
def test_blur_matches_pillows_gaussian_blur(sigma):
    expected = np.asarray(Image.fromarray(NOISE).filter(ImageFilter.GaussianBlur(sigma)))
    assert np.abs(as_image(pil_gaussian_blur(as_batch(NOISE), sigma)).astype(int) - expected).max() <= 2


@pytest.mark.parametrize("factor", [(2, 2), (3, 2), (8, 8)])
def test_box_reduce_matches_pillows_reduce(factor):
    expected = np.asarray(Image.fromarray(NOISE).reduce(factor))
    assert np.abs(as_image(box_reduce(as_batch(NOISE), *factor)).astype(int) - expected).max() <= 1


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_turns_as_pillow_does(orientation):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    Image.fromarray(NOISE).save(buffer, "PNG", exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(buffer)).convert("RGB"))
    np.testing.assert_array_equal(as_image(exif_orient(as_batch(NOISE), orientation)), expected)
