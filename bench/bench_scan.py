"""scan_folder with and without its id cache: seconds and bytes read per run.

    nice .venv/bin/python bench/bench_scan.py [--n 10000] [--work /tmp/bench_scan]

Images: N generated 256×192 JPEGs of random colour blocks (made once, kept in --work). Runs: no cache;
cache cold (first run, writes it); cache warm (nothing changed); cache warm after touching 1 % of the
files. "bytes read" is the process's read() total (psutil read_chars), so the page cache does not hide
it; the files are in the page cache for every run, so seconds understate a cold disk.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import psutil
from PIL import Image

from embed.build.scan import scan_folder


def make_images(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        path = folder / f"{i // 1000:03d}" / f"img_{i:06d}.jpg"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            blocks = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
            Image.fromarray(blocks).resize((256, 192), Image.Resampling.BILINEAR).save(path, quality=90)


def timed_scan(folder: Path, cache: Path | None) -> tuple[float, int, int]:
    """(seconds, bytes read, images found) of one scan."""
    proc = psutil.Process()
    before = proc.io_counters().read_chars
    start = time.perf_counter()
    records, _ = scan_folder(folder, progress=False, id_cache=cache)
    return time.perf_counter() - start, proc.io_counters().read_chars - before, len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_scan"))
    args = parser.parse_args()
    folder, cache = args.work / "images", args.work / "scan.json"
    make_images(folder, args.n)
    files = sorted(folder.rglob("*.jpg"))[: args.n]
    total = sum(f.stat().st_size for f in files)
    cache.unlink(missing_ok=True)

    runs = [("no cache", None), ("cache cold", cache), ("cache warm", cache)]
    print(f"N = {len(files)} files, {total / 1e6:.1f} MB on disk")
    print(f"| {'run':<18} | {'seconds':>7} | {'MB read':>8} | {'images':>6} |")
    print(f"|{'-' * 20}|{'-' * 9}|{'-' * 10}|{'-' * 8}|")
    for name, cache_file in runs:
        seconds, read, found = timed_scan(folder, cache_file)
        print(f"| {name:<18} | {seconds:7.2f} | {read / 1e6:8.1f} | {found:6d} |")
    for path in files[:: 100]:  # 1 % touched: new mtime, same bytes
        os.utime(path)
    seconds, read, found = timed_scan(folder, cache)
    print(f"| {'warm, 1 % touched':<18} | {seconds:7.2f} | {read / 1e6:8.1f} | {found:6d} |")
    print(f"id cache file: {cache.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
