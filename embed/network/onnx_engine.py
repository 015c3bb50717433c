"""ONNX Runtime inference on the CPU: a feature network exported once to ONNX, cached, then run by ONNX Runtime.

On the 2-core project machine the packaged EfficientNet-Lite0 runs about 5× faster in ONNX Runtime than in
torch's eager mode, with the same features (pooled features within 1e-5; docs/benchmarks.md). The exported
graph takes what torch's feature function takes, uint8 (B, H, W, 3), and does the input scaling itself.

Exports are cached under `onnx_cache_dir()` ($TSNE_GALLERY_ONNX_CACHE, else $XDG_CACHE_HOME/tsne-gallery/onnx,
default ~/.cache/tsne-gallery/onnx), one file per model, weights (their tag: the packaged file's name, a file's sha1
or the random seed), input size, opset and torch version, written atomically: the first build with a model
exports it (a few seconds), later builds and other galleries load the file. Where that folder cannot be
written the model is exported in memory for the run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from embed.network.models import CnnModel, FeatureFn
from layoutfile import write_bytes_atomic

OPSET = 17
EXPORT_BATCH = 2   # the traced batch; the batch axis stays dynamic
CACHE_VARIABLE = "TSNE_GALLERY_ONNX_CACHE"   # names the exports' folder when set


def onnx_cache_dir() -> Path:
    """Where exported models are kept: $TSNE_GALLERY_ONNX_CACHE, else $XDG_CACHE_HOME/tsne-gallery/onnx
    (default ~/.cache/tsne-gallery/onnx)."""
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tsne-gallery" / "onnx"


def export_key(model: CnnModel) -> dict:
    """Everything the exported graph depends on."""
    return {"model": model.name, "weights": model.weights_tag, "size": model.base_size, "mean": model.mean,
            "std": model.std, "opset": OPSET, "torch": torch.__version__}


def export_path(model: CnnModel, folder: Path | None = None) -> Path:
    """The cached export's file: readable name, then a digest of `export_key`."""
    digest = hashlib.blake2b(json.dumps(export_key(model), sort_keys=True).encode(), digest_size=8).hexdigest()
    return (folder or onnx_cache_dir()) / f"{model.name}-s{model.base_size}-{digest}.onnx"


def export_onnx(model: CnnModel) -> bytes:
    """The model's featuriser (embed.network.models.Featuriser) as an ONNX graph with a dynamic batch axis."""
    net = model.featuriser()
    example = torch.zeros((EXPORT_BATCH, model.base_size, model.base_size, 3), dtype=torch.uint8)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")   # the TorchScript exporter's notes on constant folding and tracing
        torch.onnx.export(net, (example,), buffer, dynamo=False, opset_version=OPSET, input_names=["images"],
                          output_names=["features"],
                          dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}})
    return buffer.getvalue()


def cached_export(model: CnnModel, folder: Path | None = None) -> bytes | Path:
    """The cached export's path, exporting it first if it is missing; the graph itself where the cache
    folder cannot be written."""
    path = export_path(model, folder)
    if path.is_file():
        return path
    graph = export_onnx(model)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, graph)
    except OSError:
        return graph
    return path


def onnx_features(model: CnnModel, threads: int, folder: Path | None = None) -> FeatureFn:
    """uint8 (B, H, W, 3) → float32 (B, D) features by ONNX Runtime on the CPU with `threads` intra-op
    threads, every graph optimisation on. Its threads sleep when idle instead of spinning where OpenMP's
    wait policy is PASSIVE (a small or busy machine, embed/threads.py): spinning there takes the time the
    decoding threads need (docs/benchmarks.md, "Features on the CPU")."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    if os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE":
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    graph = cached_export(model, folder)
    session = ort.InferenceSession(str(graph) if isinstance(graph, Path) else graph, options,
                                   providers=["CPUExecutionProvider"])

    def features(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {"images": np.ascontiguousarray(batch, dtype=np.uint8)})[0]

    return features
