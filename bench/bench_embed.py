"""End-to-end embed pipeline: cold / warm / +1 % runs on generated images, and the post-feature stages at 100k.

    nice .venv/bin/python bench/bench_embed.py --images-n 1000 [--weights random] [--markdown]
    nice .venv/bin/python bench/bench_embed.py --images-n --synthetic-n 100000 [--markdown]

Images part (per N): N generated 256×192 JPEGs (random colour gradients, shapes and noise) go
through `embed.build.pipeline.run_build` three times, each run in its own subprocess:
- cold: empty cache and output folder;
- warm: the same command again (nothing new);
- +1 %: ceil(N / 100) new images added to the folder, the same command again.
Per run: seconds per pipeline stage, run_build's wall time, and peak memory: the main process's
maxrss (exact, getrusage) and the sampled peak of the process tree's summed PSS (main + DataLoader
workers; forked workers share pages, which PSS splits between them instead of counting them twice).

Synthetic part (per N): no images; N × `--dims` float32 feature vectors (clustered and non-negative like
pooled CNN activations), one blur level's colour blocks and random Lab colours, then the stages that
follow feature extraction as `run_build` calls them — the feature set, lay_out (t-SNE +
orientation, grid, metrics), write_atlases (optional, from thumbnails cycled over 2,000 synthetic ones)
and the layout JSON — timed with per-stage peak RSS, in one subprocess.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psutil
from PIL import Image, ImageDraw, ImageFilter

from embed.options import COLOUR_BLOCKS

REPO = Path(__file__).resolve().parents[1]
MiB = 2**20
IMAGE_SIZE = (256, 192)


# ---------------------------------------------------------------- memory sampling

def _pss_bytes(pid: int) -> int:
    """Proportional set size of one process (RSS where smaps_rollup is unavailable); 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


class PeakSampler(threading.Thread):
    """Samples this process's RSS and its tree's summed PSS every `interval` s; peaks reset per stage."""

    def __init__(self, interval: float = 0.1, tree: bool = True):
        super().__init__(daemon=True)
        self.interval, self.tree = interval, tree
        self.me = psutil.Process()
        self.peak_rss = self.peak_tree = 0
        self.stage_peak_rss = 0
        self._halt = threading.Event()

    def sample(self) -> None:
        rss = self.me.memory_info().rss
        self.peak_rss = max(self.peak_rss, rss)
        self.stage_peak_rss = max(self.stage_peak_rss, rss)
        if self.tree:
            pids = [self.me.pid] + [c.pid for c in self.me.children(recursive=True)]
            self.peak_tree = max(self.peak_tree, sum(_pss_bytes(p) for p in pids))

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.sample()


def maxrss_bytes() -> int:
    """Peak resident set of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---------------------------------------------------------------- generated images

def make_image(index: int, size: tuple[int, int] = IMAGE_SIZE) -> Image.Image:
    """A deterministic, distinct test image: colour gradient, 2-6 filled shapes, some blur and noise."""
    rng = np.random.default_rng(index)
    w, h = size
    a, b = rng.integers(0, 256, size=(2, 3))
    t = np.linspace(0, 1, w if rng.random() < 0.5 else h)[:, None]
    ramp = (a * (1 - t) + b * t).astype(np.uint8)
    base = np.broadcast_to(ramp[None, :, :], (h, w, 3)) if len(t) == w else np.broadcast_to(ramp[:, None, :], (h, w, 3))
    img = Image.fromarray(np.ascontiguousarray(base))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(2, 7)):
        x0, y0 = rng.integers(-w // 4, w), rng.integers(-h // 4, h)
        x1, y1 = x0 + rng.integers(w // 8, w // 1.5), y0 + rng.integers(h // 8, h // 1.5)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        elif kind == 1:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
        else:
            draw.polygon([tuple(int(v) for v in p) for p in rng.integers([0, 0], [w, h], size=(3, 2))], fill=colour)
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 3))))
    noisy = np.asarray(img, dtype=np.int16) + rng.normal(0, rng.uniform(2, 20), (h, w, 3)).astype(np.int16)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def image_path(folder: Path, index: int) -> Path:
    return folder / f"{index // 1000:03d}" / f"gen_{index:06d}.jpg"


def ensure_images(folder: Path, indices: range) -> None:
    """Write the generated JPEGs of `indices` that are not there yet."""
    for i in indices:
        path = image_path(folder, i)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            make_image(i).save(path, quality=90)


def remove_images_from(folder: Path, first: int) -> None:
    """Delete generated images with index >= `first` (left over from a +1 % run)."""
    for path in folder.rglob("gen_*.jpg"):
        if int(path.stem.split("_")[1]) >= first:
            path.unlink()


# ---------------------------------------------------------------- child: one pipeline run

def child_build(result_path: Path, options: dict) -> None:
    """Run run_build with BuildOptions(**options) and write timings and memory as JSON."""
    from embed.options import BuildOptions
    from embed.build.pipeline import run_build
    from embed.build.summary import print_summary

    sampler = PeakSampler()
    sampler.start()
    start = time.perf_counter()
    summary = run_build(BuildOptions(**options))
    wall = time.perf_counter() - start
    sampler.stop()
    print_summary(summary)
    result = {"seconds": summary.seconds, "wall": wall, "images": summary.images,
              "computed": summary.computed, "cached": summary.cached, "skipped": len(summary.skipped),
              "maxrss": maxrss_bytes(), "peak_tree_pss": sampler.peak_tree}
    result_path.write_text(json.dumps(result))


# ---------------------------------------------------------------- child: synthetic post-feature stages

def synthetic_features(n: int, dims: int, seed: int = 0,
                       chunk: int = 10_000) -> tuple[np.ndarray, dict[float, np.ndarray], np.ndarray]:
    """Clustered, non-negative float32 features like pooled CNN outputs of the originals (an object latent, 60
    clusters, with a little of a colour latent, 12 clusters), colour blocks of one blur level (COLOUR_BLOCKS.dims
    Lab values made from the colour latent) and mean Lab colours."""
    rng = np.random.default_rng(seed)
    obj_centres, col_centres = rng.normal(0, 3, (60, 32)), rng.normal(0, 3, (12, 8))
    obj_label, col_label = rng.integers(60, size=n), rng.integers(12, size=n)
    weights = rng.normal(0, 1 / math.sqrt(40), (40, dims))
    to_blocks = rng.normal(0, 5, (8, COLOUR_BLOCKS.dims))
    features = np.empty((n, dims), dtype=np.float32)
    blocks = np.empty((n, COLOUR_BLOCKS.dims), dtype=np.float32)
    colours = np.empty((n, 3), dtype=np.float32)
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        m = rows.stop - rows.start
        obj = obj_centres[obj_label[rows]] + rng.normal(0, 1, (m, 32))
        col = col_centres[col_label[rows]] + rng.normal(0, 0.7, (m, 8))
        colours[rows] = np.clip(col[:, :3] * [10, 15, 15] + [55, 0, 0], [0, -100, -100], [100, 100, 100])
        blocks[rows] = col @ to_blocks + rng.normal(0, 2, (m, COLOUR_BLOCKS.dims))
        latent = np.concatenate([obj, col * 0.2], axis=1)
        features[rows] = np.maximum(latent @ weights + rng.normal(0, 0.5, (m, dims)), 0)
    return features, {8.0: blocks}, colours


class CycledThumbs:
    """N thumbnails that repeat `distinct` real arrays: all write_atlases needs (len, shape, slicing)."""

    def __init__(self, n: int, size: int, distinct: int = 2000):
        self.n, self.shape = n, (n, size, size, 3)
        self.pool = np.stack([np.asarray(make_image(i).resize((size, size))) for i in range(min(distinct, n))])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, rows: slice) -> np.ndarray:
        index = np.arange(self.n)[rows]
        return self.pool[index % len(self.pool)]


def child_synthetic(result_path: Path, n: int, dims: int, atlas: bool, out_dir: Path, seed: int = 0) -> None:
    """Post-feature stages of run_build on synthetic features; per-stage seconds and peak RSS as JSON."""
    from embed import __version__
    from embed.core.featureset import FeatureSet
    from embed.core.layouts import lay_out
    from embed.options import LayoutParams
    from embed.build.thumbs import write_atlases
    from layoutfile import build_layout, write_layout

    stages: dict[str, dict] = {}
    sampler = PeakSampler(tree=False)
    sampler.start()

    @contextmanager
    def stage(name: str):
        sampler.sample()
        sampler.stage_peak_rss = 0
        tick = time.perf_counter()
        yield
        sampler.sample()
        stages[name] = {"seconds": time.perf_counter() - tick, "peak_rss": sampler.stage_peak_rss}
        print(f"{name}: {stages[name]['seconds']:.1f} s, peak RSS {sampler.stage_peak_rss / MiB:.0f} MiB", flush=True)

    params = LayoutParams(seed=seed, progress=False)
    with stage("synthetic features (not a pipeline stage)"):
        features, blocks, colours = synthetic_features(n, dims, seed)
    if atlas:
        thumbs = CycledThumbs(n, 128)
        with stage("atlas (32 + 128 px)"):
            levels, sheets, cells = write_atlases(thumbs, out_dir, "synthetic_atlas", (32, 128), progress=False)
        del thumbs
    else:  # the same description write_atlases gives, files not written
        per_sheet, n_sheets = 64 * 64, -(-n // (64 * 64))
        levels = [{"cell_px": c, "sheet_px": 64 * c, "files": [f"synthetic_atlas/{c}/{s:03d}.jpg" for s in range(n_sheets)]}
                  for c in (32, 128)]
        sheets, cells = np.arange(n) // per_sheet, np.arange(n) % per_sheet
    with stage("feature set"):
        feature_set = FeatureSet({0.0: features}, blocks, colours)
    layouts = lay_out(feature_set, None, params, stage=stage)
    cols, rows = layouts.cols, layouts.rows
    with stage("write (layout JSON)"):
        images = [{"id": f"{i:040x}", "path": f"{i // 1000:03d}/gen_{i:06d}.jpg", "width": 256, "height": 192,
                   "atlas_sheet": int(s), "atlas_cell": int(c)} for i, (s, c) in enumerate(zip(sheets, cells))]
        doc = build_layout(generator_version=__version__, params={"synthetic": True}, atlas_levels=levels,
                           images=images, cols=cols, rows=rows,
                           layouts={lay.name: lay.contract_entry() for lay in layouts}, skipped=[])
        write_layout(out_dir / "synthetic.json", doc)
    sampler.stop()
    result = {"n": n, "dims": dims, "stages": stages, "maxrss": maxrss_bytes(),
              "metrics": {lay.name: lay.metrics for lay in layouts}}
    result_path.write_text(json.dumps(result))


# ---------------------------------------------------------------- parent

def run_child(mode_args: list[str], result_path: Path, log_path: Path, env: dict[str, str]) -> tuple[dict, float]:
    """Run this script as a child in `mode_args` with `env` added to the environment; return its JSON result
    and the process's wall seconds."""
    result_path.unlink(missing_ok=True)
    tick = time.perf_counter()
    with log_path.open("a") as log:
        proc = subprocess.run([sys.executable, __file__, *mode_args], stdout=log, stderr=subprocess.STDOUT,
                              cwd=REPO, env={**os.environ, **env})
    wall = time.perf_counter() - tick
    if proc.returncode != 0:
        sys.exit(f"child {mode_args[:2]} failed (exit {proc.returncode}); see {log_path}")
    return json.loads(result_path.read_text()), wall


def bench_images(n: int, work: Path, build_options: dict, env: dict[str, str]) -> list[dict]:
    """Cold, warm and +1 % runs of the pipeline on n generated images."""
    folder = work / f"images_{n}"
    out_dir = work / f"out_{n}"
    remove_images_from(folder, n) if folder.exists() else None
    tick = time.perf_counter()
    ensure_images(folder, range(n))
    print(f"[{n}] images ready in {time.perf_counter() - tick:.1f} s", flush=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    options = json.dumps({"images": str(folder), "output": str(out_dir / "layout.json"),
                          "cache": str(out_dir / "cache"), "quiet": True, **build_options})
    log = work / f"build_{n}.log"
    log.unlink(missing_ok=True)
    runs = []
    extra = math.ceil(n / 100)
    for label in ("cold", "warm", f"+1 % (+{extra})"):
        if label.startswith("+"):
            ensure_images(folder, range(n, n + extra))
        result, process_wall = run_child(["_build", str(work / "result.json"), options], work / "result.json", log, env)
        result.update(label=label, n=n, process_wall=process_wall)
        runs.append(result)
        print(f"[{n}] {label}: run_build {result['wall']:.1f} s, computed {result['computed']}, "
              f"cached {result['cached']}", flush=True)
    remove_images_from(folder, n)
    return runs


def bench_synthetic(n: int, dims: int, atlas: bool, work: Path, env: dict[str, str]) -> dict:
    out_dir = work / f"synthetic_{n}"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    args = ["_synthetic", str(work / "result.json"), str(n), str(dims), str(int(atlas)), str(out_dir)]
    result, wall = run_child(args, work / "result.json", work / f"synthetic_{n}.log", env)
    result["process_wall"] = wall
    return result


def image_table(runs: list[dict], markdown: bool) -> str:
    stages = list(dict.fromkeys(s for r in runs for s in r["seconds"]))
    head = ["N", "run", *stages, "run_build s", "process s", "main maxrss MiB", "tree PSS MiB", "computed",
            "vs cold"]
    rows = []
    for r in runs:
        cold = next(c for c in runs if c["n"] == r["n"] and c["label"] == "cold")
        ratio = "" if r is cold else (f"{cold['wall'] / r['wall']:.1f}× faster" if r["label"] == "warm"
                                      else f"{100 * r['wall'] / cold['wall']:.1f} % of cold")
        rows.append([f"{r['n']:,}", r["label"], *(f"{r['seconds'].get(s, 0):.1f}" for s in stages),
                     f"{r['wall']:.1f}", f"{r['process_wall']:.1f}", f"{r['maxrss'] / MiB:.0f}",
                     f"{r['peak_tree_pss'] / MiB:.0f}", str(r["computed"]), ratio])
    return format_table(head, rows, markdown)


def synthetic_table(result: dict, markdown: bool) -> str:
    rows = [[f"{result['n']:,}", name, f"{s['seconds']:.1f}", f"{s['peak_rss'] / MiB:.0f}"]
            for name, s in result["stages"].items()]
    pipeline = [s for name, s in result["stages"].items() if not name.startswith("synthetic")]
    rows.append([f"{result['n']:,}", "total (pipeline stages)", f"{sum(s['seconds'] for s in pipeline):.1f}",
                 f"{result['maxrss'] / MiB:.0f} (process maxrss)"])
    return format_table(["N", "stage", "seconds", "peak RSS MiB"], rows, markdown)


def format_table(head: list[str], rows: list[list[str]], markdown: bool) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    if markdown:
        line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
        return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(head), *map(line, rows)])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        return child_build(Path(sys.argv[2]), json.loads(sys.argv[3]))
    if len(sys.argv) > 1 and sys.argv[1] == "_synthetic":
        result, n, dims, atlas, out_dir = sys.argv[2:7]
        return child_synthetic(Path(result), int(n), int(dims), atlas == "1", Path(out_dir))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images-n", type=int, nargs="*", default=[1000],
                        help="image counts for the cold/warm/+1 %% pipeline runs (default 1000; none: skip)")
    parser.add_argument("--synthetic-n", type=int, nargs="*", default=[],
                        help="point counts for the synthetic post-feature stages (e.g. 100000)")
    parser.add_argument("--dims", type=int, default=512, help="synthetic feature dimensions (default 512)")
    parser.add_argument("--no-atlas", action="store_true", help="synthetic part: skip write_atlases")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_embed"), help="images, caches and outputs")
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--weights", default="random", help="'random' (offline), 'default' or a .pth file")
    parser.add_argument("--features", choices=("cnn", "lab"), default="cnn")
    parser.add_argument("--workers", type=int, default=None, help="decoding workers (default: the pipeline's)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--omp-passive", action="store_true",
                        help="run the children with OMP_WAIT_POLICY=PASSIVE (OpenMP threads sleep instead of "
                             "spinning at barriers; matters on a loaded machine)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args()
    env = {"OMP_WAIT_POLICY": "PASSIVE"} if args.omp_passive else {}
    args.work.mkdir(parents=True, exist_ok=True)
    options = {"features": args.features, "model": args.model, "weights": args.weights,
               "batch_size": args.batch_size, **({"workers": args.workers} if args.workers else {})}

    print(f"child environment: {env or 'unchanged'}")
    print(f"cores {os.cpu_count()}, load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    runs = [run for n in args.images_n for run in bench_images(n, args.work, options, env)]
    synthetic = [bench_synthetic(n, args.dims, not args.no_atlas, args.work, env) for n in args.synthetic_n]
    print(f"\nload average at the end {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    if runs:
        print(f"\nPipeline on generated images ({', '.join(f'{k}={v}' for k, v in options.items())}):\n")
        print(image_table(runs, args.markdown))
    for result in synthetic:
        print(f"\nPost-feature stages on synthetic features ({result['n']:,} × {result['dims']}-d float32 "
              "+ colour blocks):\n")
        print(synthetic_table(result, args.markdown))
        for name, metrics in result["metrics"].items():
            print(f"{name}: " + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                          for k, v in metrics.items()))


if __name__ == "__main__":
    main()
