"""ONNX Runtime inference (embed/network/onnx_engine.py): the same features as torch's, exported once and cached."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import embed.network.models
from embed.build.extract import extract, resolve_engine
from embed.network.models import cnn_model
from embed.network.onnx_engine import export_path, onnx_features
from embed.options import ExtractOptions
from embed.build.scan import scan_folder
from embed.image.file import open_image
from embed.image.square import square_thumbnail
from layoutfile import UserError

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo" / "images"
CPU = torch.device("cpu")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def demo_squares(n: int) -> np.ndarray:
    """The 224-px network inputs of `n` real photos of the demo, spread over its folders."""
    paths = sorted(p for p in DEMO.rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    picked = paths[:: max(1, len(paths) // n)][:n]
    return np.stack([square_thumbnail(open_image(p, max_side=400), 224) for p in picked])


def test_pretrained_lite0_features_agree_with_torch_on_real_photos(tmp_path):
    squares = demo_squares(24)
    spec = cnn_model()   # the packaged, pretrained EfficientNet-Lite0: no download

    ours = onnx_features(spec, threads=1, folder=tmp_path)(squares)
    theirs = spec.load(CPU)(squares)

    assert ours.shape == theirs.shape == (24, 1280) and ours.dtype == np.float32
    assert cosines(ours, theirs).min() >= 0.9999
    assert np.abs(ours - theirs).max() < 1e-3
    assert cosines(ours[:12], ours[12:]).max() < 0.99   # different photos, different features


def test_the_export_is_made_once_per_model_and_weights_and_reused(tmp_path, monkeypatch):
    squares = demo_squares(4)
    spec = cnn_model("mobilenet_v3_small", "random", seed=0)
    first = onnx_features(spec, threads=1, folder=tmp_path)(squares)
    assert [p.name for p in tmp_path.iterdir()] == [export_path(spec, tmp_path).name]

    def refuse(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    again = onnx_features(spec, threads=1, folder=tmp_path)(squares)
    np.testing.assert_array_equal(again, first)
    other = cnn_model("mobilenet_v3_small", "random", seed=1)
    assert export_path(other, tmp_path) != export_path(spec, tmp_path)
    assert export_path(replace(spec, base_size=192), tmp_path) != export_path(spec, tmp_path)


def test_an_unwritable_cache_folder_exports_in_memory(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    spec = cnn_model("mobilenet_v3_small", "random")

    features = onnx_features(spec, threads=1, folder=blocked / "onnx")(demo_squares(2))

    np.testing.assert_allclose(features, spec.load(CPU)(demo_squares(2)), atol=1e-4)


def test_auto_picks_onnx_on_the_cpu_and_onnx_refuses_other_devices():
    assert resolve_engine("auto", "cnn", CPU) == "onnx"
    assert resolve_engine("auto", "cnn", torch.device("cuda")) == "torch"
    assert resolve_engine("torch", "cnn", CPU) == "torch"
    assert resolve_engine("onnx", "lab", torch.device("cuda")) == "none"
    with pytest.raises(UserError, match="runs on the CPU"):
        resolve_engine("onnx", "cnn", torch.device("cuda"))


def test_torch_and_onnx_features_share_the_cache(tmp_path, monkeypatch):
    images = tmp_path / "images"
    images.mkdir()
    for k, path in enumerate(sorted(DEMO.rglob("*.jpg"))[:6]):
        (images / f"{k}.jpg").write_bytes(path.read_bytes())
    records, _ = scan_folder(images, progress=False)
    options = ExtractOptions(device="cpu", workers=0, progress=False, engine="torch")
    by_torch = extract(records, tmp_path / "cache", options)
    assert by_torch.stats["engine"] == "torch"

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(embed.network.models.CnnModel, "load", refuse)
    again = extract(records, tmp_path / "cache", replace(options, engine="onnx"))
    assert again.stats["computed"] == 0
    np.testing.assert_array_equal(again.features, by_torch.features)
    monkeypatch.undo()
    by_onnx = extract(records, tmp_path / "fresh", replace(options, engine="auto"))
    assert by_onnx.stats["engine"] == "onnx"
    assert cosines(by_onnx.features, by_torch.features).min() >= 0.9999
