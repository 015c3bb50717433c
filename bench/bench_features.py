"""Feature extraction speed: the naive pipeline against embed.extract, and how close their features are.

    nice .venv/bin/python bench/bench_features.py [--images assets/demo/images] [--n 30] [--n-quality 200] [--photos]

naive: every variant (original + each blur level) decoded separately at full resolution, blurred at
full resolution, cropped to 224 px and run through the network on its own (batch 1) or in batches
of 32 of one level; plain eval + no_grad, contiguous NCHW tensors.
fast: `embed.extract` into an empty cache — one decode per image (JPEG draft), blurred copies at
reduced size, DataLoader workers, channels_last, inference_mode; it also makes and caches the
thumbnails and colours, which naive does not.

Then: how close the fast features are to the naive ones (std. cosine, 10-NN overlap per level),
the layout metrics of both (blur and combined layouts via embed.reduce / grid / metrics), and a
study of network input size per blur level (similarity to the 224-px input, images/s).
`--photos` repeats the speed part on the same images upscaled to 2048 px JPEGs, as camera photos
would be. With `--weights random` (offline default here) the network is randomly initialised.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import torch
from PIL import Image, ImageFilter
from sklearn.neighbors import NearestNeighbors

from embed.blur import REFERENCE_SIDE, blur_square, input_size_for
from embed.cache import RowStore
from embed.combine import layout_features
from embed.extract import extract
from embed.grid import assign_grid, grid_shape
from embed.metrics import layout_metrics
from embed.models import cnn_model, truncate_classifier
from embed.options import ExtractOptions
from embed.reduce import normalise_unit, reduce_to_2d
from embed.scan import ImageRecord, open_image, scan_folder
from embed.thumbs import square_thumbnail


def naive_features(records: list[ImageRecord], net: torch.nn.Module, radii: list[float], mean: torch.Tensor,
                   std: torch.Tensor, batch: int) -> dict[float, np.ndarray]:
    """Each (image, level): full decode, full-resolution blur, 224-px crop; batches of one level."""
    out = {}
    for radius in radii:
        chunks = []
        for start in range(0, len(records), batch):
            inputs = []
            for rec in records[start:start + batch]:
                img = open_image(rec.path)
                if radius:
                    img = img.filter(ImageFilter.GaussianBlur(radius * min(img.size) / REFERENCE_SIDE))
                inputs.append(square_thumbnail(img, REFERENCE_SIDE, "crop"))
            x = torch.from_numpy(np.stack(inputs)).permute(0, 3, 1, 2).float().contiguous()
            with torch.no_grad():
                chunks.append(net((x - mean) / std).numpy())
        out[radius] = np.concatenate(chunks)
    return out


def standardised_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine similarity of matching rows after z-scoring each set's columns, as embed.combine does
    before t-SNE (so an offset or scale per feature, which the layouts never see, does not count)."""
    a, b = ((x - x.mean(axis=0)) / (x.std(axis=0) + 1e-12) for x in (a, b))
    return float(np.mean(np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)))


def knn_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean fraction of each row's k nearest neighbours (Euclidean) shared between `a` and `b`."""
    ia = NearestNeighbors(n_neighbors=k + 1).fit(a).kneighbors(a, return_distance=False)[:, 1:]
    ib = NearestNeighbors(n_neighbors=k + 1).fit(b).kneighbors(b, return_distance=False)[:, 1:]
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(ia, ib)]))


def layouts(features: dict[float, np.ndarray], colours: np.ndarray, blur_levels: list[float]) -> dict:
    """Layout metrics of the blur and combined layouts made from `features`, as the pipeline makes them."""
    n = len(colours)
    cols, rows = grid_shape(n, 16 / 9)
    result = {}
    for name, x in layout_features(features, blur_levels).items():
        tsne = normalise_unit(reduce_to_2d(x, seed=0, n_jobs=2, progress=False))
        grid = assign_grid(tsne, cols, rows, method="auto")
        result[name] = layout_metrics(x, colours, grid, tsne)
    return result


def cache_scale(n: int, folder: Path) -> None:
    """Append n feature rows (512 float32) and n thumbnails (128×128×3) in batches of 32, reopen, read."""
    print(f"\n### Cache at scale: {n} images, batches of 32, in {folder}\n")
    print("| store | append s | on disk MB | reopen + locate s | read all (features) / 1000 random (thumbs) s "
          "| peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    ids = [f"{i:016x}" for i in range(n)]
    rng = np.random.default_rng(0)
    for name, shape, dtype in (("features", (512,), np.float32), ("thumbs", (128, 128, 3), np.uint8)):
        store = RowStore(folder / name, dtype=dtype, shape=shape)
        batch = rng.integers(0, 255, (32, *shape)).astype(dtype)
        start = time.perf_counter()
        for i in range(0, n, 32):
            store.append(ids[i:i + 32], batch[: len(ids[i:i + 32])])
        appended = time.perf_counter() - start
        start = time.perf_counter()
        view = RowStore(folder / name, dtype=dtype).view(ids[::-1])
        opened = time.perf_counter() - start
        start = time.perf_counter()
        total = float(np.asarray(view).sum()) if name == "features" else sum(
            float(view[i].sum()) for i in rng.integers(0, n, 1000))
        read = time.perf_counter() - start
        rss = psutil.Process().memory_info().rss / 2**20
        print(f"| {name} {shape} | {appended:.1f} | {(folder / name / 'rows.bin').stat().st_size / 1e6:.0f} "
              f"| {opened:.2f} | {read:.2f} | {rss:.0f} |", flush=True)
        assert total > 0


def make_photos(records: list[ImageRecord], folder: Path, side: int) -> list[ImageRecord]:
    """The images upscaled to `side` px on the long side, saved as quality-90 JPEGs (camera-sized)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = set()
    for rec in records:
        target = folder / (rec.rel.replace("/", "__") + ".jpg")
        names.add(target.name)
        if not target.exists():
            img = open_image(rec.path)
            scale = side / max(img.size)
            img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC).save(
                target, quality=90)
    return [rec for rec in scan_folder(folder, progress=False)[0] if rec.rel in names]


def speed_table(label: str, records: list[ImageRecord], args, net, mean, std) -> None:
    """Print images/s rows for naive (batch 1 and 32) and fast (several worker counts)."""
    n = len(records)
    print(f"\n### {label}: {n} images, levels {args.blur}, {args.model} ({args.weights}), "
          f"{torch.get_num_threads()} torch threads\n")
    print("| pipeline | seconds | images/s | × naive b1 |")
    print("|---|---:|---:|---:|")
    base = None
    for batch in (1, 32):
        start = time.perf_counter()
        naive_features(records, net, args.blur, mean, std, batch)
        seconds = time.perf_counter() - start
        base = base or n / seconds
        print(f"| naive, batch {batch} | {seconds:.1f} | {n / seconds:.2f} | {n / seconds / base:.2f} |", flush=True)
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            out = extract(records, cache, ExtractOptions(model=args.model, weights=args.weights,
                                                         blur_radii=tuple(args.blur), thumb_size=128, device="cpu",
                                                         batch_size=32, workers=workers, progress=False))
            seconds = time.perf_counter() - start
        stages = ", ".join(f"{k} {v:.1f}" for k, v in out.stats["seconds"].items() if k != "total")
        print(f"| fast, workers {workers} ({stages}) | {seconds:.1f} | {n / seconds:.2f} | {n / seconds / base:.2f} |",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, default=Path("assets/demo/images"))
    parser.add_argument("--n", type=int, default=30, help="images timed (first N by path)")
    parser.add_argument("--n-quality", type=int, default=200, help="images for feature and layout similarity")
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--weights", default="random")
    parser.add_argument("--blur", type=lambda t: [float(v) for v in t.split(",")], default=[0.0, 2.0, 8.0, 32.0])
    parser.add_argument("--workers", type=lambda t: [int(v) for v in t.split(",")], default=[0, 1, 2])
    parser.add_argument("--sizes", type=lambda t: [int(v) for v in t.split(",")], default=[160, 112, 80, 64])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--photos", action="store_true", help="also time camera-sized JPEGs (2048 px)")
    parser.add_argument("--cache-scale", type=int, default=0, metavar="N",
                        help="only time the cache with N synthetic images (features + thumbnails) and stop")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tsne-gallery-bench-cache",
                        help="folder for --cache-scale (emptied first)")
    parser.add_argument("--photo-dir", type=Path, default=Path(tempfile.gettempdir()) / "tsne-gallery-bench-photos")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.cache_scale:
        shutil.rmtree(args.work, ignore_errors=True)
        cache_scale(args.cache_scale, args.work)
        shutil.rmtree(args.work, ignore_errors=True)
        return

    everything = scan_folder(args.images, progress=False)[0]
    records = everything[: args.n]
    spec = cnn_model(args.model, args.weights)
    net = truncate_classifier(spec.build()).eval()
    mean = torch.tensor(spec.mean).view(1, 3, 1, 1) * 255
    std = torch.tensor(spec.std).view(1, 3, 1, 1) * 255
    print(f"input sizes per level: { {r: input_size_for(r) for r in args.blur} }")

    speed_table(f"{args.images} (as found)", records, args, net, mean, std)
    if args.photos:
        speed_table("same images as 2048-px JPEGs", make_photos(records, args.photo_dir, 2048), args, net, mean, std)

    quality = everything[: args.n_quality]
    naive = naive_features(quality, net, args.blur, mean, std, 32)
    with tempfile.TemporaryDirectory() as cache:
        fast = extract(quality, cache, ExtractOptions(model=args.model, weights=args.weights, blur_radii=tuple(args.blur),
                                                      device="cpu", workers=0, progress=False))
        colours = fast.colours.copy()
    print(f"\n### Fast vs naive features ({len(quality)} images)\n")
    print("| level | fast input px | std. cosine | 10-NN overlap |")
    print("|---:|---:|---:|---:|")
    for r in args.blur:
        print(f"| {r:g} | {input_size_for(r)} | {standardised_cosine(naive[r], fast.features[r]):.3f} "
              f"| {knn_overlap(naive[r], fast.features[r]):.3f} |")

    blur_levels = [r for r in args.blur if r >= 8] or [max(args.blur)]
    metrics = {"naive": layouts(naive, colours, blur_levels), "fast": layouts(fast.features, colours, blur_levels)}
    print(f"\n### Layout metrics, {len(quality)} images (each layout in its own feature space)\n")
    keys = ["neighbour_colour_dE", "knn10_grid", "knn10_tsne", "dpq16_grid", "dpq16_tsne"]
    print("| layout | features | " + " | ".join(keys) + " |")
    print("|---|---|" + "---:|" * len(keys))
    for name in ("blur", "combined"):
        for which in ("naive", "fast"):
            print(f"| {name} | {which} | " + " | ".join(f"{metrics[which][name][k]:.3f}" for k in keys) + " |")
        change = [100 * (metrics["fast"][name][k] / metrics["naive"][name][k] - 1) for k in keys]
        print(f"| {name} | change % | " + " | ".join(f"{c:+.1f}" for c in change) + " |")

    print(f"\n### Network input size per blur level, {len(records)} images (vs the same blurred image at 224 px)\n")
    squares = [square_thumbnail(open_image(rec.path), REFERENCE_SIDE, "crop") for rec in records]
    print("| level | input px | std. cosine | 10-NN overlap | network images/s |")
    print("|---:|---:|---:|---:|---:|")
    run = spec.load(torch.device("cpu"))
    for r in [r for r in args.blur if r > 0]:
        reference = None
        for size in sorted(set(args.sizes) | {REFERENCE_SIDE}, reverse=True):
            batch = np.stack([blur_square(sq, r, size) for sq in squares])
            run(batch[:8])  # warm-up for this input shape
            start = time.perf_counter()
            feats = np.concatenate([run(batch[i:i + 32]) for i in range(0, len(batch), 32)])
            speed = len(batch) / (time.perf_counter() - start)
            reference = feats if reference is None else reference
            print(f"| {r:g} | {size} | {standardised_cosine(reference, feats):.3f} | {knn_overlap(reference, feats):.3f} "
                  f"| {speed:.1f} |", flush=True)


if __name__ == "__main__":
    main()
