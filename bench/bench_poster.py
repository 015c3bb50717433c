"""Benchmark atlas writing and poster export at scale; prints a table of time and peak extra memory.

N layout entries cycle over D distinct source JPEGs (decode cost is real, disk use stays small).
  python bench/bench_poster.py --n 100000 --distinct 2000 --cell 128 --work /tmp/bench_poster
"""

from __future__ import annotations

import argparse
import math
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from embed import __version__
from embed.poster import IN_MEMORY_PIXELS, make_poster
from embed.image.file import open_image
from embed.build.thumbs import write_atlases
from embed.image.square import square_thumbnail
from layoutfile import build_layout, write_layout


def anonymous_rss() -> int:
    """Resident anonymous memory in bytes (excludes memory-mapped file pages, which the OS can drop)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon in /proc/self/status (Linux only)")


def measured(fn):
    """Run fn(); return (result, seconds, peak anonymous RSS above the starting one in MiB)."""
    base = peak = anonymous_rss()
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, anonymous_rss())

    thread = threading.Thread(target=sample)
    thread.start()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    done.set()
    thread.join()
    return result, seconds, (peak - base) / 2**20


def make_sources(folder: Path, count: int) -> list[Path]:
    """`count` 320x240 JPEGs of smooth random colour fields."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        path = folder / f"src_{i:05d}.jpg"
        if not path.exists():
            small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
            Image.fromarray(small).resize((320, 240), Image.Resampling.BICUBIC).save(path, quality=90)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=2000)
    parser.add_argument("--cell", type=int, default=128)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_poster"))
    parser.add_argument("--skip-atlas", action="store_true")
    parser.add_argument("--skip-poster", action="store_true")
    args = parser.parse_args()
    n, work = args.n, args.work
    sources = make_sources(work / "src", args.distinct)
    rows = []

    if not args.skip_atlas:
        distinct = np.stack([square_thumbnail(open_image(p, max_side=171), 128) for p in sources])
        thumbs = np.lib.format.open_memmap(work / "thumbs.npy", mode="w+", dtype=np.uint8, shape=(n, 128, 128, 3))
        for start in range(0, n, len(distinct)):
            thumbs[start:start + len(distinct)] = distinct[:n - start]
        thumbs.flush()
        del thumbs
        thumbs = np.load(work / "thumbs.npy", mmap_mode="r")
        (levels, sheet, cell), seconds, mib = measured(
            lambda: write_atlases(thumbs, work / "atlas", "atlas", progress=False))
        rows.append((f"write_atlases (32+128 px, {len(levels[0]['files'])} sheets/level)", n, seconds, mib))

    cols = math.ceil(math.sqrt(n * 16 / 9))
    grid_rows = math.ceil(n / cols)
    rng = np.random.default_rng(1)
    cells = rng.permutation(cols * grid_rows)[:n]
    grid = np.stack([cells % cols, cells // cols], axis=1)
    tsne = rng.random((n, 2))
    images = [{"id": f"{i:016x}", "path": sources[i % len(sources)].name, "width": 320, "height": 240,
               "atlas_sheet": i // 4096, "atlas_cell": i % 4096} for i in range(n)]
    doc = build_layout(generator_version=__version__, params={"source": str(work / "src")},
                       atlas_levels=[{"cell_px": 32, "sheet_px": 2048, "files": ["atlas/32/000.jpg"]}],
                       images=images, cols=cols, rows=grid_rows,
                       layouts={name: {"label": name, "tsne": tsne, "grid": grid} for name in ("blur", "combined")},
                       skipped=[])
    write_layout(work / "layout.json", doc)
    for state, suffix in () if args.skip_poster else (("grid", ".png"), ("tsne", ".png"), ("grid", ".jpg")):
        if suffix == ".jpg" and cols * grid_rows * args.cell ** 2 > IN_MEMORY_PIXELS:
            continue
        out = work / f"poster_{state}{suffix}"
        _, seconds, mib = measured(lambda: make_poster(work / "layout.json", out, state=state, cell_px=args.cell,
                                                       progress=False))
        size = f"{cols * args.cell}x{grid_rows * args.cell}"
        rows.append((f"make_poster {state} {suffix} {size} px, {out.stat().st_size / 2**30:.2f} GiB", n, seconds, mib))
        out.unlink()

    print(f"| {'step':<70} | {'images':>7} | {'seconds':>7} | {'peak extra anon MiB':>14} |")
    print(f"|{'-' * 72}|{'-' * 9}|{'-' * 9}|{'-' * 21}|")
    for step, count, seconds, mib in rows:
        print(f"| {step:<70} | {count:>7} | {seconds:>7.1f} | {mib:>19.0f} |")


if __name__ == "__main__":
    main()
