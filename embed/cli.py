"""Command line: `python -m embed IMAGES -o OUT.json`, `python -m embed info FILE`, `python -m embed poster FILE`.

Also installed as `tsne-gallery-embed`. Parsing imports no torch: `info` and `poster` never load it, and
`build` loads it only once it runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from fractions import Fraction
from pathlib import Path

from embed.options import ENGINES, FEATURE_KINDS, IMAGE_PATHS, BuildOptions
from layoutfile import UserError, printable

SUBCOMMANDS = ("build", "info", "poster")


def parse_float_list(text: str) -> list[float]:
    """'0,2,8,32' → [0.0, 2.0, 8.0, 32.0] (argparse type)."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected non-negative numbers, got {text!r}")
    return values


def parse_aspect(text: str) -> float:
    """'16:9', '16/9' or '1.78' → width/height (argparse type)."""
    try:
        for sep in (":", "/"):
            if sep in text:
                width, height = (float(part) for part in text.split(sep))
                break
        else:
            width, height = float(text), 1.0
        if width <= 0 or height <= 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an aspect ratio like 16:9 or 1.5, got {text!r}")
    return width / height


def _listed(values: tuple[float, ...]) -> str:
    """(0.0, 2.0, 8.0) → '0,2,8', as the option takes it."""
    return ",".join(f"{v:g}" for v in values)


def _ratio(value: float) -> str:
    """1.777… → '16:9'."""
    fraction = Fraction(value).limit_denominator(100)
    return f"{fraction.numerator}:{fraction.denominator}"


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the main job (images → layout JSON); defaults from BuildOptions."""
    from embed.grid import METHODS as GRID_METHODS
    from embed.thumbs import FITS

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
    features.add_argument("--batch-size", type=int, default=default.batch_size,
                          help=f"images per network batch (default {default.batch_size})")
    features.add_argument("--workers", type=int, default=default.workers,
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
    layout.add_argument("--perplexity", type=float, default=default.perplexity,
                        help=f"t-SNE perplexity (default {default.perplexity:g})")
    layout.add_argument("--seed", type=int, default=default.seed,
                        help=f"random seed: same input and seed → same JSON (default {default.seed})")
    layout.add_argument("--fresh", action="store_true",
                        help="lay the maps out from scratch. Without it, a re-run with new or removed images keeps "
                             "the map it saved last time (in the cache) and places the new images into it, so "
                             "images don't all move when a few are added; the same inputs, seed and history of "
                             "runs give the same JSON. --fresh gives the result of a first (cold) run")
    layout.add_argument("--pca-dims", type=int, default=default.pca_dims,
                        help=f"PCA dimensions before t-SNE (default {default.pca_dims})")
    layout.add_argument("--grid", choices=GRID_METHODS, default=default.grid,
                        help="grid assignment: lap (exact), fast (tiles + FLAS polish, scalable), tiles (the former "
                             "scalable method), rasterfairy, auto (lap up to 2,000 images, then fast; "
                             f"default {default.grid})")
    layout.add_argument("--aspect", type=parse_aspect, default=default.aspect,
                        help=f"grid aspect ratio, width:height (default {_ratio(default.aspect)})")
    thumbs = parser.add_argument_group("thumbnails and atlases")
    thumbs.add_argument("--fit", choices=FITS, default=default.fit,
                        help=f"square thumbnails by centre-crop or by letterboxing (default {default.fit})")
    thumbs.add_argument("--atlas-cells", type=lambda t: [int(v) for v in parse_float_list(t)],
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

    parser = argparse.ArgumentParser(
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
    args = make_parser().parse_args(argv)
    try:
        if args.command == "build":
            from embed.pipeline import run_build
            from embed.summary import print_summary

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
