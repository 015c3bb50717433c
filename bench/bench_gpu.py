"""Issue 12's GPU benchmark: feature images/s (batched path vs PIL path), t-SNE bare vs ours, grid, end to end.

    python bench/bench_gpu.py                                   # GPU machine: N = 10,000, about 4–5 minutes
    python bench/bench_gpu.py --n 100000 --n-pil 2000           # the 100k end-to-end target (longer)
    nice .venv/bin/python bench/bench_gpu.py --n 200 --n-pil 100 --n-tsne 2000 --n-grid 20000 --device cpu

bench/gpu_run.sh runs it on a GPU machine (packages carried as wheels, see there). Every row is printed
as soon as it is measured, so a run cut short still reports what it finished. Steps:

1. images: N distinct 1600×1200 JPEGs (quality 90, ~430 KB: 100k need 43 GB of disk) in <work>/jpegs-N:
   two random colour waves, fixed noise at a random offset and four solid rectangles, made in one
   process per core; files already there are kept.
2. decode: torchvision's `decode_jpeg` alone on `--n-decode` files held in memory (the decoder's ceiling).
   features: `embed.build.extract` into an empty cache with the build's defaults (one network pass on the
   original, colour blocks of blur level 8, 128-px thumbnails): the batched path on all N images, the
   PIL path (decoding threads) on the first `--n-pil`, both on `--device`, after a warm-up that builds
   the network once. images/s = source images over the whole call; stage seconds show where time went.
3. t-SNE: bench/bench_tsne.py's child runs (each a fresh process): bare `openTSNE.TSNE(n_jobs=-1)` and
   `embed.core.reduce.reduce_to_2d(n_jobs=-1)` on `--n-tsne` × 50 clustered features.
4. grid: `assign_grid(..., "auto")` on `--n-grid` points of bench/bench_grid.py's blob cloud, DPQ16.
5. end to end: `run_build` on the N images (scan → features → both layouts → atlases → JSON) in a fresh
   process with a fresh output and cache; wall time from the parent, stage seconds from the summary.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WIDTH, HEIGHT = 1600, 1200
_NOISE = np.random.default_rng(12345).integers(0, 25, (HEIGHT + 64, WIDTH + 64, 3), dtype=np.uint8)


def photo(index: int) -> np.ndarray:
    """A distinct 1600×1200 RGB image, cheap to make: waves across and down, noise, solid rectangles."""
    rng = np.random.default_rng(index)

    def wave(n: int) -> np.ndarray:
        t = np.linspace(0, 1, n)[:, None]
        return (55 + 55 * np.sin(rng.uniform(1, 12, 3) * t + rng.uniform(0, 6.3, 3))).astype(np.uint8)

    oy, ox = rng.integers(0, 64, 2)
    img = wave(HEIGHT)[:, None, :] + wave(WIDTH)[None, :, :]   # ≤ 220: no overflow below
    img += _NOISE[oy:oy + HEIGHT, ox:ox + WIDTH]
    for _ in range(4):
        x0, y0, w, h = rng.integers(0, WIDTH - 100), rng.integers(0, HEIGHT - 100), *rng.integers(50, 400, 2)
        img[y0:y0 + h, x0:x0 + w] = rng.integers(0, 256, 3, dtype=np.uint8)
    return img


def _write_images(job: tuple[str, range]) -> int:
    folder, indices = job
    written = 0
    for i in indices:
        path = Path(folder) / f"{i:06d}.jpg"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            Image.fromarray(photo(i)).save(tmp, "JPEG", quality=90)
            tmp.rename(path)
        written += path.stat().st_size
    return written


def make_images(folder: Path, n: int) -> tuple[float, float]:
    """N JPEGs in `folder` (kept if already there); returns (seconds, MB on disk)."""
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    processes = os.cpu_count() or 1
    step = max(1, min(500, n // (4 * processes) or 1))
    jobs = [(str(folder), range(s, min(s + step, n))) for s in range(0, n, step)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:   # nothing heavy imported yet
        total = sum(pool.imap_unordered(_write_images, jobs))
    return time.perf_counter() - start, total / 1e6


def row(*cells) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


def decode_row(records, args) -> None:
    """torchvision's decode_jpeg alone, in batches of --batch-size, on --device (files read beforehand)."""
    import torch
    from torchvision.io import ImageReadMode, decode_jpeg

    data = [torch.frombuffer(bytearray(r.path.read_bytes()), dtype=torch.uint8) for r in records[:args.n_decode]]
    decode_jpeg(data[:args.batch_size], mode=ImageReadMode.RGB, device=args.device)   # warm-up
    start = time.perf_counter()
    for s in range(0, len(data), args.batch_size):
        decode_jpeg(data[s:s + args.batch_size], mode=ImageReadMode.RGB, device=args.device)
    if args.device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    row("decode_jpeg only", f"batches of {args.batch_size}", f"{len(data):,}", f"{seconds:.1f}",
        f"{len(data) / seconds:.1f}", "files in memory; one thread")


def features_rows(records, args, work: Path) -> None:
    from embed.build.extract import extract
    from embed.options import ExtractOptions

    options = ExtractOptions(kind=args.features, model=args.model, weights=args.weights, device=args.device,
                             batch_size=args.batch_size, progress=False)
    shutil.rmtree(work / "warm-up", ignore_errors=True)
    extract(records[:2 * args.batch_size], work / "warm-up", options)   # CUDA/cuDNN start-up, model build
    for path, n in (("batch", args.n), ("pil", min(args.n_pil, args.n))):
        cache = work / f"cache-{path}"
        shutil.rmtree(cache, ignore_errors=True)
        start = time.perf_counter()
        out = extract(records[:n], cache, replace(options, image_path=path))
        seconds = time.perf_counter() - start
        stages = ", ".join(f"{k} {v:.1f}" for k, v in out.stats["seconds"].items() if k != "total")
        row(f"features, {path} path", f"{args.features} {args.model if args.features == 'cnn' else ''}".strip(),
            f"{n:,}", f"{seconds:.1f}", f"{n / seconds:.1f}", f"{stages}; failed {out.stats['failed']}")
        shutil.rmtree(cache, ignore_errors=True)


def tsne_rows(args) -> None:
    seconds = {}
    for variant in ("bare", "reduce_to_2d"):
        out = subprocess.run([sys.executable, str(HERE / "bench_tsne.py"), "--child", variant, str(args.n_tsne), "50",
                              "-1"], check=True, capture_output=True, text=True, cwd=REPO).stdout
        result = json.loads(out.strip().splitlines()[-1])
        seconds[variant] = result["seconds"]
        label = "t-SNE bare openTSNE(n_jobs=-1)" if variant == "bare" else "t-SNE ours reduce_to_2d(n_jobs=-1)"
        extra = "".join(f", {key} {result[key]:.1f}" if key == "cpu" else f", {key} {result[key]}"
                        for key in ("cpu", "policy") if key in result)   # CPU seconds, OpenMP wait policy
        row(label, "50-d clustered", f"{args.n_tsne:,}", f"{result['seconds']:.1f}", "",
            f"knn10 {result['knn10']:.3f}{extra}")
    row("t-SNE ours / bare", "", f"{args.n_tsne:,}", f"{seconds['reduce_to_2d'] / seconds['bare']:.2f}×", "", "")


def grid_row(args) -> None:
    sys.path.insert(0, str(HERE))
    from bench_grid import blobs

    from embed.core.grid import assign_grid, grid_shape
    from embed.core.metrics import dpq

    xy = blobs(args.n_grid)
    cols, rows = grid_shape(args.n_grid)
    start = time.perf_counter()
    cells = assign_grid(xy, cols, rows, "auto")
    seconds = time.perf_counter() - start
    row("grid auto", f"blobs, {cols}×{rows}", f"{args.n_grid:,}", f"{seconds:.1f}", "",
        f"DPQ16 {dpq(xy, cells, 16):.4f}")


def end_to_end_row(args, images: Path, work: Path) -> None:
    out_dir = work / "e2e"
    shutil.rmtree(out_dir, ignore_errors=True)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, str(HERE / "bench_gpu.py"), "--child-build", str(images),
                          str(out_dir / "layout.json"), args.device, args.features, args.model, args.weights],
                         check=True, capture_output=True, text=True, cwd=REPO).stdout
    seconds = time.perf_counter() - start
    result = json.loads(out.strip().splitlines()[-1])
    stages = ", ".join(f"{k} {v:.1f}" for k, v in result["seconds"].items())
    row("end to end (scan → JSON + atlases)", f"{args.features}, {args.device}", f"{result['images']:,}",
        f"{seconds:.1f}", f"{result['images'] / seconds:.1f}", f"{stages}; peak RSS {result['peak_mib']:.0f} MiB")


def peak_mib() -> float:
    """This process's own peak RSS (VmHWM; ru_maxrss would carry the forking parent's over exec)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def child_build(images: str, output: str, device: str, features: str, model: str, weights: str) -> None:
    from embed.options import BuildOptions
    from embed.build.pipeline import run_build

    summary = run_build(BuildOptions(images=Path(images), output=Path(output), device=device, features=features,
                                     model=model, weights=weights, quiet=True))
    print(json.dumps({"images": summary.images, "seconds": summary.seconds,
                      "peak_mib": peak_mib()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10000, help="images for the batched path and end to end")
    parser.add_argument("--n-pil", type=int, default=1000, help="images for the PIL path (slower)")
    parser.add_argument("--n-decode", type=int, default=2000, help="images for the decode-only row")
    parser.add_argument("--n-tsne", type=int, default=10000)
    parser.add_argument("--n-grid", type=int, default=100000)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--features", default="cnn", choices=("cnn", "lab"))
    parser.add_argument("--model", default=None, help="default: the build's default model")
    parser.add_argument("--weights", default="random", help="random: same speed, needs no download")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-gpu"))
    parser.add_argument("--skip", nargs="*", default=[], choices=("decode", "features", "tsne", "grid", "e2e"))
    parser.add_argument("--child-build", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_build:
        child_build(*args.child_build)
        return

    images = args.work / f"jpegs-{args.n}"
    seconds, megabytes = make_images(images, args.n)
    import torch
    import torchvision

    from embed.options import DEFAULT_MODEL
    from embed.build.scan import scan_folder

    args.model = args.model or DEFAULT_MODEL
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else "none used"
    print(f"Python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"{os.cpu_count()} cores, GPU: {gpu}, load average {os.getloadavg()[0]:.1f} at start\n")
    row("step", "data", "N", "seconds", "images/s", "notes")
    row("---", "---", "---:", "---:", "---:", "---")
    row(f"make {WIDTH}×{HEIGHT} JPEGs", f"{megabytes / max(args.n, 1) * 1000:.0f} KB each", f"{args.n:,}",
        f"{seconds:.1f}", f"{args.n / seconds:.0f}", f"{os.cpu_count()} processes (files kept between runs)")
    records = scan_folder(images, progress=False)[0]
    if "decode" not in args.skip:
        decode_row(records, args)
    if "features" not in args.skip:
        features_rows(records, args, args.work)
    if "tsne" not in args.skip:
        tsne_rows(args)
    if "grid" not in args.skip:
        grid_row(args)
    if "e2e" not in args.skip:
        end_to_end_row(args, images, args.work)


if __name__ == "__main__":
    main()
