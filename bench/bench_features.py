"""Features on the CPU: bare torch, bare ONNX Runtime and the whole pipeline's decode+features stage, interleaved.

    nice .venv/bin/python bench/bench_features.py /work/data/intel1k [--rounds 3] [--threads 2] [--markdown]

On a folder of real photos, each round runs, in an order that rotates from round to round:
- torch: `CnnModel.load(cpu)` (eager, channels_last) on the same `--bare-n` ready 224-px inputs, in batches
  of `--batch-size`;
- onnx: `embed.network.onnx_engine.onnx_features` on the same batches;
- pipeline (one per `--workers` value): `embed.build.extract.extract` as the build calls it, with defaults, on
  every photo of the folder into an empty cache: decoding, thumbnails, colour blocks, the network and the
  cache writes; with its sub-stage seconds (the decode ones summed over the decoding threads);
- with `--spinning`, also the first pipeline variant with ONNX Runtime's threads spinning when idle (its
  default; embed/network/onnx_engine.py turns it off under OMP_WAIT_POLICY=PASSIVE, which a 2-core machine gets).
torch and ONNX Runtime use `--threads` threads. Ratios are taken within a round, so they survive a machine
whose load changes. The last line estimates 100k photos at the default pipeline's median rate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from embed.decode import DecodePlan
from embed.decode.pil import pil_batches
from embed.build.extract import extract
from embed.network.models import cnn_model
from embed.network.onnx_engine import CACHE_VARIABLE, onnx_features
from embed.options import ExtractOptions
from embed.build.scan import scan_folder

STAGES = ("decode.open", "decode.resize", "decode.colour_blocks", "decode.network_inputs", "decode_wait",
          "model_load", "network", "write", "write_wait", "total")


def bare_inputs(records, n: int) -> np.ndarray:
    """The first `n` photos' 224-px network inputs, as the pipeline makes them."""
    plan = DecodePlan(128, "crop", (255, 255, 255), 224, levels=(), network_levels=(0.0,))
    batches = pil_batches(records[:n], plan, batch_size=64, workers=2)
    return np.concatenate([batch.inputs[0.0] for batch in batches])


def timed_rate(fn, inputs: np.ndarray, batch_size: int) -> float:
    start = time.perf_counter()
    for at in range(0, len(inputs), batch_size):
        fn(inputs[at:at + batch_size])
    return len(inputs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--bare-n", type=int, default=256, help="inputs the bare engines run per round")
    parser.add_argument("--workers", default="default", help="pipeline variants: decoding threads, e.g. 1,2")
    parser.add_argument("--spinning", action="store_true", help="add the first pipeline with ORT threads spinning")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    scratch = Path(tempfile.mkdtemp(prefix="bench-features-"))
    os.environ[CACHE_VARIABLE] = str(scratch / "onnx")
    print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}; cores {os.cpu_count()}; "
          f"threads {args.threads}")
    records, _ = scan_folder(args.images, progress=False, id_cache=scratch / "scan.json")
    inputs = bare_inputs(records, args.bare_n)
    spec = cnn_model()
    engines = {"torch": spec.load(torch.device("cpu")), "onnx": onnx_features(spec, args.threads)}   # exports once
    for fn in engines.values():
        fn(inputs[:args.batch_size])   # warm up
    workers = [None if w == "default" else int(w) for w in args.workers.split(",")]
    pipelines = {f"pipeline (workers {w if w is not None else 'default'})":
                 replace(ExtractOptions(), device="cpu", progress=False, workers=w) for w in workers}
    spinning = {}
    if args.spinning:
        first = next(iter(pipelines))
        spinning[f"{first}, spinning"] = pipelines[first]
        pipelines.update(spinning)
    rates: dict[str, list[float]] = {name: [] for name in [*engines, *pipelines]}
    stages: dict[str, list[dict]] = {name: [] for name in pipelines}
    for r in range(args.rounds):
        names = list(rates)
        names = names[r % len(names):] + names[:r % len(names)]
        for name in names:
            if name in engines:
                rates[name].append(timed_rate(engines[name], inputs, args.batch_size))
                continue
            cache = scratch / f"cache-{r}-{len(stages[name])}"
            policy = os.environ.get("OMP_WAIT_POLICY")
            if name in spinning:   # what onnx_features reads when it makes its session (libgomp read it long ago)
                os.environ["OMP_WAIT_POLICY"] = "ACTIVE"
            start = time.perf_counter()
            out = extract(records, cache, pipelines[name])
            if policy is None:
                os.environ.pop("OMP_WAIT_POLICY", None)
            else:
                os.environ["OMP_WAIT_POLICY"] = policy
            rates[name].append(out.stats["computed"] / (time.perf_counter() - start))
            stages[name].append({**out.stats["seconds"], "workers": out.stats["workers"]})
            shutil.rmtree(cache)
        print(f"round {r + 1}: " + ", ".join(f"{name} {rates[name][-1]:.1f}" for name in rates) + " img/s")
    load = open("/proc/loadavg").read().split()[:3]
    shutil.rmtree(scratch)

    bar = "|" if args.markdown else ""
    print(f"\n{len(records)} photos ({args.images}), {args.rounds} rounds, batch {args.batch_size}, "
          f"{args.threads} threads; load average at end {load}")
    print(f"{bar} variant {bar} img/s per round {bar} median {bar} × torch (per round) {bar}")
    if args.markdown:
        print("|---|---|---|---|")
    for name, values in rates.items():
        ratios = [v / t for v, t in zip(values, rates["torch"])]
        print(f"{bar} {name} {bar} {', '.join(f'{v:.1f}' for v in values)} {bar} {statistics.median(values):.1f} "
              f"{bar} {', '.join(f'{x:.2f}' for x in ratios)} {bar}")
    for name, runs in stages.items():
        print(f"\n{name}, seconds per stage (median of rounds; decode.* summed over {runs[0]['workers']} threads):")
        print("  " + ", ".join(f"{stage} {statistics.median(run.get(stage, 0.0) for run in runs):.2f}"
                               for stage in STAGES))
    default = next(iter(pipelines))
    rate = statistics.median(rates[default])
    print(f"\n100k photos like these at {default}'s median {rate:.0f} img/s: {100_000 / rate / 60:.1f} min "
          f"(torch's bare rate alone: {100_000 / statistics.median(rates['torch']) / 60:.1f} min)")


if __name__ == "__main__":
    main()
