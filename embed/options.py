"""The options of a build, typed and with their defaults in one place (no torch: the CLI imports this).

`BuildOptions` is what `python -m embed build` parses and what code that runs the pipeline makes;
`ExtractOptions` is the part that decides how features are made (`embed.build.extract.extract` takes it);
`BuildPlan` is what the pipeline resolves from BuildOptions before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embed.core.recipe import Recipe

DEFAULT_MODEL = "efficientnet_lite0"   # pretrained, shipped as a PyPI wheel: works offline (see embed/network/models.py)
FEATURE_KINDS = ("cnn", "lab")         # cnn: network features of the original; lab: its 8×8 CIELAB grid, no network
IMAGE_PATHS = ("auto", "batch", "pil")   # how images become network inputs (embed/decode/)
ENGINES = ("auto", "torch", "onnx")      # what runs the network: auto = onnx on the CPU, torch on CUDA/MPS

# The options a layout depends on besides its recipe: a change to any of them makes a new layout (embed/build/fingerprint.py).
LAYOUT_FIELDS = ("features", "model", "perplexity", "seed", "pca_dims", "grid", "aspect", "fit", "trim_borders",
                 "atlas_cells")


@dataclass(frozen=True)
class ColourBlocks:
    """How colour blocks are made (embed/build/extract.py): each blurred copy shrunk to `side` px, one CIELAB block per
    entry of `grids` (cells per side: the mean colour, a 4×4 grid). Recipes (embed/core/recipe.py) weight them."""

    grids: tuple[int, ...] = (1, 4)
    side: int = 32

    @property
    def dims(self) -> int:
        """Values per image and blur level: 3 Lab channels per grid cell."""
        return sum(3 * g * g for g in self.grids)


COLOUR_BLOCKS = ColourBlocks()
UNIT_ROW_KINDS = ("cnn",)   # network feature kinds whose rows are scaled to unit length before weighting


@dataclass(frozen=True)
class ExtractOptions:
    """How thumbnails, colours and features are made from the images."""

    kind: str = "cnn"                              # one of FEATURE_KINDS
    model: str = DEFAULT_MODEL                     # packaged or torchvision model name (kind cnn)
    weights: str = "default"                       # 'default' (pretrained), 'random' or a .pth state-dict file
    seed: int = 0                                  # of random weights
    blur_radii: tuple[float, ...] = (8.0,)         # colour blocks' blur levels: sigma as on a 224-px image
    network_levels: tuple[float, ...] = (0.0,)     # blur levels whose blurred copies go through the network
                                                   # (0: the original; blurred as the colour blocks are)
    thumb_size: int = 128                          # side of the cached square thumbnails
    fit: str = "crop"                              # square thumbnails by centre-crop or letterbox ('pad')
    background: tuple[int, int, int] = (255, 255, 255)   # behind transparency and letterboxing
    trim_borders: bool = False                     # crop uniform borders baked into the photos (embed/image/borders.py)
    device: str = "auto"                           # auto, cpu, cuda or mps
    batch_size: int = 32                           # images per network batch
    workers: int | None = None                     # decoding threads (None: picked by device and cores)
    image_path: str = "auto"                       # batch: JPEGs decoded in batches on the device; pil; auto:
                                                   # batch with a CUDA device, else pil
    engine: str = "auto"                           # one of ENGINES (embed/network/onnx_engine.py)
    progress: bool = True                          # progress bars


@dataclass(frozen=True)
class LayoutParams:
    """What the in-memory core needs besides features and a recipe (embed/core/layouts.py `lay_out`)."""

    perplexity: float = 30.0    # t-SNE perplexity of layouts whose recipe sets none
    seed: int = 0               # same features, recipe and seed → same layouts
    pca_dims: int = 50          # PCA dimensions before t-SNE
    grid: str = "auto"          # grid assignment: auto, lap, fast, tiles or rasterfairy
    aspect: float = 16 / 9      # grid width / height
    progress: bool = True       # progress bars


@dataclass(frozen=True)
class BuildOptions:
    """Everything `run_build` needs: a folder of images → a layout JSON with atlases beside it."""

    images: Path                                   # folder of images (searched recursively)
    output: Path | None = None                     # layout JSON (None: out/<folder name>.json)
    cache: Path | None = None                      # feature/thumbnail cache (None: .cache/ beside the output)
    features: str = ExtractOptions.kind
    model: str = ExtractOptions.model
    weights: str = ExtractOptions.weights
    blur: tuple[float, ...] = ExtractOptions.blur_radii   # colour levels of the default recipe and the dial
    recipe: str | None = None                      # a recipe file or preset name (embed/core/recipe.py); None: default
    stops: int | None = None                       # a dial of this many layouts between the recipe's ends
    device: str = ExtractOptions.device
    batch_size: int = ExtractOptions.batch_size
    workers: int | None = ExtractOptions.workers
    image_path: str = ExtractOptions.image_path
    engine: str = ExtractOptions.engine
    perplexity: float = LayoutParams.perplexity    # t-SNE perplexity
    seed: int = LayoutParams.seed                  # same input and seed → same JSON
    fresh: bool = False                            # lay out from scratch instead of continuing the saved map
    pca_dims: int = LayoutParams.pca_dims          # PCA dimensions before t-SNE
    grid: str = LayoutParams.grid                  # grid assignment: auto, lap, fast, tiles or rasterfairy
    aspect: float = LayoutParams.aspect            # grid width / height
    fit: str = ExtractOptions.fit
    trim_borders: bool = ExtractOptions.trim_borders
    atlas_cells: tuple[int, ...] = (32, 128)       # atlas levels of detail, cell sizes in px
    quiet: bool = False                            # no progress bars
    no_wait: bool = False                          # fail at once (embed.build.lock.BuildBusy) if another build writes the output

    def __post_init__(self) -> None:
        """Hold paths as Paths, sequences as tuples and numbers as their types, however the caller wrote them
        (the layout's fingerprint is made from these values)."""
        normalised = {"images": Path(self.images), "blur": tuple(float(r) for r in self.blur),
                      "atlas_cells": tuple(int(c) for c in self.atlas_cells),
                      "perplexity": float(self.perplexity), "aspect": float(self.aspect)}
        for name in ("output", "cache"):
            if getattr(self, name) is not None:
                normalised[name] = Path(getattr(self, name))
        for name, value in normalised.items():
            object.__setattr__(self, name, value)

    @property
    def blur_levels(self) -> list[float]:
        """The blur levels colour blocks are made for, ascending, each once."""
        return sorted(set(self.blur))

    @property
    def progress(self) -> bool:
        return not self.quiet

    def layout_options(self) -> dict:
        """The options a layout depends on (LAYOUT_FIELDS), by name."""
        return {name: getattr(self, name) for name in LAYOUT_FIELDS}

    def layout_params(self) -> LayoutParams:
        """The in-memory core's parameters (embed/core/layouts.py)."""
        return LayoutParams(perplexity=self.perplexity, seed=self.seed, pca_dims=self.pca_dims, grid=self.grid,
                            aspect=self.aspect, progress=self.progress)

    def extract_options(self, colour_levels: tuple[float, ...] | None = None,
                        network_levels: tuple[float, ...] = (0.0,)) -> ExtractOptions:
        """How this build makes its features: colour blocks at `colour_levels` (default: the --blur levels) and
        network features at `network_levels` (the recipe's), thumbnails as large as the largest atlas cell."""
        return ExtractOptions(kind=self.features, model=self.model, weights=self.weights, seed=self.seed,
                              blur_radii=tuple(self.blur_levels) if colour_levels is None else colour_levels,
                              network_levels=network_levels,
                              thumb_size=max(self.atlas_cells), fit=self.fit, trim_borders=self.trim_borders,
                              device=self.device, batch_size=self.batch_size, workers=self.workers,
                              image_path=self.image_path, engine=self.engine, progress=self.progress)


@dataclass(frozen=True)
class BuildPlan:
    """A build's options resolved and checked before any work: where things are, what is laid out."""

    source: Path                      # the images' folder, absolute
    output: Path                      # the layout JSON, absolute
    cache_dir: Path
    weights_tag: str                  # names the network weights exactly ('none' without a network)
    recipe: Recipe                    # the layouts to make (embed/core/recipe.py)
