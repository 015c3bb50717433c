"""Packaged networks side by side: speed of the bare network and layout quality of the real pipeline, per
labelled folder — the table that chooses the default model (docs/features.md, "The default model").

    nice .venv/bin/python bench/bench_models.py FOLDER [FOLDER ...] [--models M ...] [--rounds 3] [--threads 2]
                                                [--seeds 0 ...] [--out DIR] [--skip-speed] [--skip-quality]

Speed (on 32 images of the first folder, centre-cropped to each model's input side, one batch of 32):
- torch: the model's feature function as the pipeline builds it (`CnnModel.load`: eager, channels_last,
  uint8 NHWC in, input scaling included);
- onnx (when onnxruntime is installed): the same network and scaling exported with torch.onnx.export
  (opset 17, dynamo=False), run by onnxruntime's CPUExecutionProvider; the largest difference from torch's
  features and the smallest cosine are printed once per model.
Both with `--threads` intra-op threads; every round runs every model and engine once (interleaved, so load
changes hit all alike); img/s per round, then the median and the range.

Quality (per folder, model and seed), from the real pipeline: `python -m embed FOLDER -o
OUT/<folder>_<model>_s<seed>.json --model M --cache OUT/cache/<folder> --seed S --fresh` in a subprocess; from its JSON,
the combined layout's category_ratio and the blur layout's colour_ratio (with several `--seeds`: the mean and
the range); from the first seed's stdout, decode+features seconds (img/s when it computed every image); and
the 10-NN same-label agreement of the pooled features (cosine; mean over images of the share of the 10
nearest with the same label), the features read back from that cache with the build's own options.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from embed.build.extract import extract
from embed.build.labels import folder_labels
from embed.network.models import PACKAGED, PooledFeatures, cnn_model
from embed.options import BuildOptions
from embed.build.scan import scan_folder
from embed.image.square import square_thumbnail
from layoutfile import read_layout

BATCH = 32
REPO = Path(__file__).resolve().parents[1]


def sample_images(folder: Path, n: int = BATCH) -> list[Image.Image]:
    """`n` images spread evenly over the folder's sorted image files, decoded to RGB."""
    records, _ = scan_folder(folder, progress=False)
    picked = [records[round(i * (len(records) - 1) / max(n - 1, 1))] for i in range(n)]
    images = []
    for rec in picked:
        with Image.open(rec.path) as img:
            images.append(img.convert("RGB"))
    return images


class ScaledFeatures(torch.nn.Module):
    """uint8 (B, H, W, 3) → pooled features, with the model's input scaling: what `CnnModel.load` computes."""

    def __init__(self, name: str):
        super().__init__()
        spec = cnn_model(name)
        self.net = PooledFeatures(spec.build()).eval()
        self.register_buffer("mean", torch.tensor(spec.mean).view(1, 3, 1, 1) * 255)
        self.register_buffer("std", torch.tensor(spec.std).view(1, 3, 1, 1) * 255)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x.permute(0, 3, 1, 2).float() - self.mean) / self.std)


def onnx_session(name: str, batch: np.ndarray, threads: int, folder: Path):
    """An onnxruntime session of the model exported at its input side; None when onnxruntime is missing."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    path = folder / f"{name}.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the TorchScript exporter's deprecation and shape-inference notes
        torch.onnx.export(ScaledFeatures(name), (torch.from_numpy(batch),), str(path), opset_version=17,
                          dynamo=False, input_names=["images"], output_names=["features"],
                          dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}})
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def speed(models: list[str], folder: Path, rounds: int, threads: int) -> dict[tuple[str, str], list[float]]:
    """img/s per (model, engine) and round, interleaved."""
    torch.set_num_threads(threads)
    images = sample_images(folder)
    runners = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in models:
            batch = np.stack([square_thumbnail(img, cnn_model(name).base_size) for img in images])
            torch_fn = cnn_model(name).load(torch.device("cpu"))
            runners[name, "torch"] = (torch_fn, batch)
            session = onnx_session(name, batch, threads, Path(tmp))
            if session is not None:
                def onnx_fn(b: np.ndarray, session=session) -> np.ndarray:
                    return session.run(None, {"images": b})[0]
                runners[name, "onnx"] = (onnx_fn, batch)
                a, b = torch_fn(batch), onnx_fn(batch)
                cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
                print(f"{name}: onnx vs torch features: max |diff| {np.abs(a - b).max():.2g}, "
                      f"min cosine {cos.min():.7f}", flush=True)
        for fn, batch in runners.values():
            fn(batch)  # warm-up
        rates: dict[tuple[str, str], list[float]] = {key: [] for key in runners}
        for r in range(rounds):
            for key, (fn, batch) in runners.items():
                start = time.perf_counter()
                fn(batch)
                rates[key].append(len(batch) / (time.perf_counter() - start))
            print(f"round {r + 1}: " + ", ".join(f"{m} {e} {rates[m, e][-1]:.1f}" for m, e in rates)
                  + f" img/s; load {load_average()}", flush=True)
    return rates


def knn_same_label(features: np.ndarray, labels: list[str], k: int = 10) -> float:
    """Mean share of each image's k nearest neighbours (cosine) that share its label."""
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    nearest = np.argpartition(-sims, k, axis=1)[:, :k]
    label_ids = np.unique(np.asarray(labels), return_inverse=True)[1]
    return float((label_ids[nearest] == label_ids[:, None]).mean())


def quality(folder: Path, name: str, out: Path, seed: int) -> dict:
    """One real build of `folder` with `name`; its layout metrics, features-stage time and the 10-NN score."""
    output = out / f"{folder.name}_{name}_s{seed}.json"
    cache = out / "cache" / folder.name
    command = [sys.executable, "-m", "embed", str(folder), "-o", str(output), "--model", name, "--cache", str(cache),
               "--seed", str(seed), "--fresh"]   # from scratch, also where an earlier run left this output
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=os.environ)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({run.returncode}): {run.stderr.strip()[-500:]}")
    counts = re.search(r"(\d+) images laid out \((\d+) computed", run.stdout)
    stage = re.search(r"decode\+features ([\d.]+)s", run.stdout)
    images, computed = int(counts[1]), int(counts[2])
    layouts = read_layout(output)["layouts"]
    options = BuildOptions(images=folder, output=output, cache=cache, model=name, quiet=True)
    records, _ = scan_folder(folder, progress=False, id_cache=cache / "scan.json")
    extracted = extract(records, cache, options.extract_options())
    assert extracted.stats.get("computed", 0) == 0, "the build's features were not in the cache"
    labels = folder_labels([rec.rel for rec in extracted.records])
    return {"images": images, "wall": wall, "features_s": float(stage[1]) if stage else float("nan"),
            "all_computed": computed == images, "combined_category": layouts["combined"]["metrics"]["category_ratio"],
            "blur_colour": layouts["blur"]["metrics"]["colour_ratio"],
            "knn10": knn_same_label(extracted.features, labels)}


def spread(values: list[float], digits: int) -> str:
    """One value, or the mean and the range of several."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", type=Path, nargs="+", help="labelled image folders (one sub-folder per label)")
    parser.add_argument("--models", nargs="+", default=list(PACKAGED), help="models (default: the packaged ones)")
    parser.add_argument("--rounds", type=int, default=3, help="speed rounds (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads for the speed part (default 2)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="layout seeds (default 0)")
    parser.add_argument("--out", type=Path, default=Path("out/bench_models"), help="layouts and caches")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    print(f"load at start {load_average()}; torch {torch.__version__}", flush=True)

    if not args.skip_speed:
        rates = speed(args.models, args.folders[0], args.rounds, args.threads)
        print(f"\nspeed: batch {BATCH} of {args.folders[0]}, {args.threads} threads, {args.rounds} interleaved rounds; "
              f"load {load_average()}")
        print("| model | input px | torch img/s (median, range) | onnx img/s (median, range) | onnx / torch |")
        print("|---|---|---|---|---|")
        for name in args.models:
            cells = []
            for engine in ("torch", "onnx"):
                r = rates.get((name, engine))
                cells.append(f"{statistics.median(r):.1f} ({min(r):.1f}–{max(r):.1f})" if r else "–")
            ratio = ([o / t for o, t in zip(rates[name, "onnx"], rates[name, "torch"])]
                     if (name, "onnx") in rates else [])
            ratios = f"{min(ratio):.1f}–{max(ratio):.1f}×" if ratio else "–"
            print(f"| {name} | {cnn_model(name).base_size} | {cells[0]} | {cells[1]} | {ratios} |", flush=True)

    if not args.skip_quality:
        args.out.mkdir(parents=True, exist_ok=True)
        rows = []
        for folder in args.folders:
            for name in args.models:
                runs = [quality(folder, name, args.out, seed) for seed in args.seeds]
                rows.append((folder, name, runs))
                print(f"{folder.name} {name}: done, load {load_average()}", flush=True)
        print(f"\nquality: the real pipeline (python -m embed FOLDER --model M), default options, "
              f"seeds {' '.join(map(str, args.seeds))}")
        print("| folder | images | model | combined category ratio | blur colour ratio | 10-NN same label | "
              "decode+features s (img/s) |")
        print("|---|---|---|---|---|---|---|")
        for folder, name, runs in rows:
            q = runs[0]
            rate = f" ({q['images'] / q['features_s']:.1f})" if q["all_computed"] else " (cached)"
            print(f"| {folder} | {q['images']} | {name} | {spread([r['combined_category'] for r in runs], 2)} | "
                  f"{spread([r['blur_colour'] for r in runs], 3)} | {q['knn10']:.3f} | {q['features_s']:.1f}{rate} |")
    print(f"\nload at end {load_average()}")


if __name__ == "__main__":
    main()
