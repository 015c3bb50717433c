#!/usr/bin/env bash
# Issue 12's GPU check, run from the repository root on a GPU machine (Python 3.12, torch 2.11,
# torchvision 0.26, no network) after bench/gpu_wheels.sh filled .whl/ here. With the device tool:
#
#   run(command="bash bench/gpu_run.sh", carry=[".whl"], timeout_s=600)
#
# 1. installs the carried wheels into /tmp/site; 2. the batched path's and the ONNX engine's tests, the CUDA
# one included (≤ 2.5 min); 3. bench/bench_gpu.py at its defaults (N = 10,000; ≤ 6 min; extra arguments go
# to it). Outputs: $OUT/tests.txt and $OUT/bench.md (the table for docs/benchmarks.md).
set -uo pipefail
OUT=${OUT:-/tmp/gpu-run}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
timeout 150 python3 -m pytest -q -p no:cacheprovider -o addopts=-ra tests/embed/test_batch_images.py tests/embed/test_onnx_engine.py 2>&1 \
    | tail -20 | tee "$OUT/tests.txt"
timeout 400 python3 bench/bench_gpu.py --work /tmp/bench-gpu "$@" 2>&1 | tee "$OUT/bench.md"
