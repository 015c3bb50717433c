"""Command line: `python -m embed IMAGES -o OUT.json`, `python -m embed info FILE`, `python -m embed poster FILE`.

Also installed as `tsne-gallery-embed`. Parsing imports no torch: `info` and `poster` never load it, and
`build` loads it only once it runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from fractions import Fraction
from pathlib import Path

from embed.options import ENGINES, FEATURE_KINDS, IMAGE_PATHS, BuildOptions
from embed.core.recipe import MAX_LAYOUTS, preset_names
from layoutfile import UserError, printable

SUBCOMMANDS = ("build", "info", "poster")


MAX_SEED = 2**32 - 1     # numpy's and openTSNE's seeds are 32-bit
MAX_ATLAS_CELL = 1024    # the contract's largest atlas cell (docs/layout-format.md)
VALUE_OPTIONS = ("--aspect", "--perplexity", "--seed", "--blur", "--pca-dims", "--batch-size", "--workers",
                 "--atlas-cells", "--cell")   # their value may start with '-' (argparse would take it for an option)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(text: str, kind: type, what: str) -> float | int:
    """`text` as a finite `kind` (int or float), or an ArgumentTypeError naming `what` it should be."""
    try:
        value = kind(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r} (not finite)")
    return value


def bounded(kind: type, low: float, high: float | None = None, *, above: bool = False):
    """An argparse type: a finite `kind` in [low, high] (or (low, high] with `above`)."""
    what = (f"a {'whole' if kind is int else 'finite'} number {'>' if above else '>='} {low}"
            + (f" and <= {high}" if high is not None else ""))

    def parse(text: str) -> float | int:
        value = _number(text, kind, what)
        if value < low or (above and value == low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = kind.__name__   # argparse names the type in its messages
    return parse


def parse_float_list(text: str) -> list[float]:
    """'0,2,8,32' → [0.0, 2.0, 8.0, 32.0]: finite non-negative numbers (argparse type)."""
    values = [_number(part, float, "comma-separated finite numbers >= 0") for part in text.split(",") if part.strip()]
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated finite numbers >= 0, got {text!r}")
    return values


def parse_cell_list(text: str) -> list[int]:
    """'32,128' → [32, 128]: atlas cell sizes, whole numbers 1..MAX_ATLAS_CELL (argparse type)."""
    what = f"comma-separated whole numbers 1 to {MAX_ATLAS_CELL}"
    values = [_number(part, int, what) for part in text.split(",") if part.strip()]
    if not values or any(not 1 <= v <= MAX_ATLAS_CELL for v in values):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return values


def parse_aspect(text: str) -> float:
    """'16:9', '16/9' or '1.78' → width/height, finite and positive (argparse type)."""
    try:
        for sep in (":", "/"):
            if sep in text:
                width, height = (float(part) for part in text.split(sep))
                break
        else:
            width, height = float(text), 1.0
        ratio = width / height
        if not (width > 0 and height > 0 and math.isfinite(ratio) and ratio > 0):
            raise ValueError
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"expected a positive aspect ratio like 16:9 or 1.5, got {text!r}") from None
    return ratio


def join_values(argv: list[str]) -> list[str]:
    """`--aspect -1:2` → `--aspect=-1:2` for VALUE_OPTIONS, so that a value starting with '-' reaches its check
    instead of being read as an option."""
    joined: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in VALUE_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            joined.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            joined.append(argv[i])
            i += 1
    return joined


def _listed(values: tuple[float, ...]) -> str:
    """(0.0, 2.0, 8.0) → '0,2,8', as the option takes it."""
    return ",".join(f"{v:g}" for v in values)


def _ratio(value: float) -> str:
    """1.777… → '16:9'."""
    fraction = Fraction(value).limit_denominator(100)
    return f"{fraction.numerator}:{fraction.denominator}"


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the main job (images → layout JSON); defaults from BuildOptions."""
    from embed.core.grid import METHODS as GRID_METHODS
    from embed.image.square import FITS

    default = BuildOptions
    parser.add_argument("images", type=Path, help="folder of images (searched recursively)")
    parser.add_argument("-o", "--output", type=Path, default=default.output,
                        help="layout JSON to write; atlases go beside it (default: out/<folder name>.json)")
    features = parser.add_argument_group("features")
    features.add_argument("--features", choices=FEATURE_KINDS, default=default.features,
                          help=f"cnn: network features of each image; lab: its 8x8 CIELAB colour grid, no network "
                               f"(default {default.features}). The blur layout uses colour alone either way")
    features.add_argument("--model", default=default.model,
                          help=f"network (default {default.model}, pretrained and installed with the package: no "
                               "download); any torchvision model name also works, its pooled penultimate layer used")
    features.add_argument("--weights", default=default.weights,
                          help="'default' = the model's pretrained weights (torchvision's are downloaded once to the "
                               "torch cache), a local .pth state-dict file, or 'random' (seeded random init, for "
                               "quick tests: features without meaning)")
    features.add_argument("--blur", type=parse_float_list, default=default.blur, metavar="R,R,…",
                          help="blur levels of the colour blocks: Gaussian sigma as on a 224-px image (scales with "
                               f"image size); 0 is the original (default {_listed(default.blur)})")
    features.add_argument("--device", default=default.device, choices=("auto", "cpu", "cuda", "mps"),
                          help=f"where the network runs (default {default.device}: cuda, then mps, then cpu)")
    features.add_argument("--batch-size", type=bounded(int, 1), default=default.batch_size,
                          help=f"images per network batch (default {default.batch_size})")
    features.add_argument("--workers", type=bounded(int, 0), default=default.workers,
                          help="image-decoding threads (default: picked by device and core count; "
                               "0 = decode in the main thread); with --image-path batch, reader threads")
    features.add_argument("--image-path", choices=IMAGE_PATHS, default=default.image_path,
                          help="batch: JPEGs decoded, resized and blurred in batches on the device (nvJPEG on a "
                               "GPU), other formats as pil; pil: every image decoded by Pillow in worker processes; "
                               f"auto: batch with a CUDA device, else pil (default {default.image_path})")
    features.add_argument("--engine", choices=ENGINES, default=default.engine,
                          help="what runs the network: torch, or onnx (ONNX Runtime, about 5x faster on the CPU; "
                               "the model is exported once to ~/.cache/tsne-gallery/onnx); same features either "
                               f"way. auto: onnx on the CPU, torch on CUDA/MPS (default {default.engine})")
    features.add_argument("--cache", type=Path, default=default.cache,
                          help="feature/thumbnail cache folder (default: .cache/ beside the output JSON)")
    layout = parser.add_argument_group("layout")
    layout.add_argument("--recipe", default=default.recipe, metavar="NAME|FILE.toml",
                        help="what the layouts are made of: a preset (" + ", ".join(preset_names()) + ") or a TOML "
                             "recipe file (docs/features.md, 'Recipes'); default: blur and combined at the --blur levels")
    layout.add_argument("--stops", type=bounded(int, 2, MAX_LAYOUTS), default=default.stops, metavar="N",
                        help="a dial of N layouts from the recipe's first (colour) to its last (objects) layout, "
                             "spaced so that each step changes the picture about equally; 2 gives the ends alone")
    layout.add_argument("--perplexity", type=bounded(float, 0, above=True), default=default.perplexity,
                        help=f"t-SNE perplexity, > 0; capped at (N - 1) / 3 for N images, as openTSNE needs "
                             f"(default {default.perplexity:g})")
    layout.add_argument("--seed", type=bounded(int, 0, MAX_SEED), default=default.seed,
                        help=f"random seed 0 to 2**32 - 1: same input and seed → same JSON (default {default.seed})")
    layout.add_argument("--fresh", action="store_true",
                        help="lay the maps out from scratch. Without it, a re-run with new or removed images keeps "
                             "the map it saved last time (in the cache) and places the new images into it, so "
                             "images don't all move when a few are added; the same inputs, seed and history of "
                             "runs give the same JSON. --fresh gives the result of a first (cold) run")
    layout.add_argument("--pca-dims", type=bounded(int, 2), default=default.pca_dims,
                        help=f"PCA dimensions before t-SNE (default {default.pca_dims})")
    layout.add_argument("--grid", choices=GRID_METHODS, default=default.grid,
                        help="grid assignment: lap (exact), fast (tiles + FLAS polish, scalable), tiles (the former "
                             "scalable method), rasterfairy, auto (lap up to 3,000 images, then fast; "
                             f"default {default.grid})")
    layout.add_argument("--aspect", type=parse_aspect, default=default.aspect,
                        help=f"grid aspect ratio, width:height (default {_ratio(default.aspect)})")
    thumbs = parser.add_argument_group("thumbnails and atlases")
    thumbs.add_argument("--fit", choices=FITS, default=default.fit,
                        help=f"square thumbnails by centre-crop or by letterboxing (default {default.fit})")
    thumbs.add_argument("--trim-borders", action="store_true",
                        help="crop uniform borders baked into the photos (letterboxing bars, white or black or any "
                             "one colour) before thumbnails and features; JPEGs then take the PIL path")
    thumbs.add_argument("--atlas-cells", type=parse_cell_list,
                        default=default.atlas_cells, metavar="PX,PX",
                        help=f"atlas levels of detail, cell sizes in px (default {_listed(default.atlas_cells)})")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--no-wait", action="store_true",
                        help="if another build is writing the same output, stop at once (exit status 75) instead "
                             "of waiting for it")


def build_options(args: argparse.Namespace) -> BuildOptions:
    """The BuildOptions of parsed `build` arguments."""
    return BuildOptions(**{field.name: getattr(args, field.name) for field in dataclasses.fields(BuildOptions)})


def make_parser() -> argparse.ArgumentParser:
    """The argparse parser with the three subcommands."""
    from embed.poster import add_poster_arguments

    parser = OneLineParser(
        prog="python -m embed",
        description="Arrange a folder of images by how they look: t-SNE layouts snapped to a grid, "
                    "written as a layout JSON with texture atlases. `python -m embed IMAGES -o OUT.json` "
                    "is short for `python -m embed build IMAGES -o OUT.json`.")
    sub = parser.add_subparsers(dest="command", required=True)
    add_build_arguments(sub.add_parser("build", help="images → layout JSON (the default command)",
                                       description="Build the blur and combined layouts of a folder of images."))
    info = sub.add_parser("info", help="print counts, parameters and metrics of a layout JSON")
    info.add_argument("layout", type=Path, help="layout JSON file")
    add_poster_arguments(sub.add_parser("poster", help="render a high-resolution composite of a layout",
                                        description="Composite the original images in their grid cells "
                                                    "(or t-SNE positions) into one large image."))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; user mistakes print one line and return their exit status, never a traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in SUBCOMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "build")
    args = make_parser().parse_args(join_values(argv))
    try:
        if args.command == "build":
            from embed.build.pipeline import run_build
            from embed.build.summary import print_summary

            print_summary(run_build(build_options(args)))
        elif args.command == "info":
            from embed.info import print_info
            print_info(args.layout)
        else:
            from embed.poster import run_poster
            return run_poster(args)
    except UserError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return exc.exit_status
    except OSError as exc:   # a file system failure no step turned into a UserError: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {printable(where)}{printable(exc.strerror or exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished batches are cached; run the same command again to resume", file=sys.stderr)
        return 130
    return 0
