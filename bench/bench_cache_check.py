"""What checking a cache's rows costs (issue 19): the first lookup of every row of a store (CRC-32 of its id and
bytes, finiteness of float rows) against a lookup of rows already checked, for thumbnail- and feature-shaped rows.

    nice .venv/bin/python bench/bench_cache_check.py [--rows 20000] [--dir out/bench_cache_check] [--repeats 3]

The stores are written once (random rows) and read back through the page cache, so the table shows the CPU
cost of the check (the price every build pays when it first looks rows up), not the disk's speed. Each repeat
opens the stores afresh and times both lookups on each.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from embed.build.cache import RowStore

SHAPES = {"thumbnails 128 px (uint8)": ((128, 128, 3), np.uint8), "features 1280 (float32)": ((1280,), np.float32),
          "colour blocks 51 (float32)": ((51,), np.float32)}


def write_store(folder: Path, shape: tuple[int, ...], dtype, rows: int) -> list[str]:
    rng = np.random.default_rng(0)
    store = RowStore(folder, dtype=dtype, shape=shape)
    ids = [f"{i:016x}" for i in range(rows)]
    for start in range(0, rows, 1000):
        batch = ids[start:start + 1000]
        values = (rng.integers(0, 256, (len(batch), *shape), dtype=np.uint8) if dtype == np.uint8
                  else rng.standard_normal((len(batch), *shape), dtype=np.float32))
        store.append(batch, values)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--dir", type=Path, default=Path("out/bench_cache_check"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    stores = {name: (args.dir / str(i), dtype, write_store(args.dir / str(i), shape, dtype, args.rows))
              for i, (name, (shape, dtype)) in enumerate(SHAPES.items())}
    print(f"{args.rows:,} rows per store, {args.repeats} repeats (seconds: min over repeats)\n")
    print(f"| store | MB | first lookup (checks) | lookup of checked rows | check MB/s |")
    print("|---|---:|---:|---:|---:|")
    for name, (folder, dtype, ids) in stores.items():
        first, again = [], []
        for _ in range(args.repeats):
            store = RowStore(folder, dtype=dtype)
            started = time.perf_counter()
            assert not store.locate(ids)[1].any()
            first.append(time.perf_counter() - started)
            started = time.perf_counter()
            store.locate(ids)
            again.append(time.perf_counter() - started)
        megabytes = (folder / "rows.bin").stat().st_size / 1e6
        print(f"| {name} | {megabytes:,.0f} | {min(first):.3f} | {min(again):.3f} | "
              f"{megabytes / (min(first) - min(again)):,.0f} |")
    shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
