"""A tour of embed's Python API, as in a notebook: features of a folder, a dial of layouts in memory,
new weights without decoding again, a quick poster, a matrix of your own, and a layout file for the sketches.

    .venv/bin/python examples/api_tour.py assets/demo/images out/tour

Each step is a cell's worth; the printed table is what an artist compares while playing with the balance.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import embed


def main(folder: str, out: str) -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)

    # 1. Features of every image, decoded once and cached: what a three-stop dial needs.
    recipe = embed.dial(3)
    photos = embed.extract_features(folder, recipe, cache=out_dir / ".cache", progress=False)
    print(f"{len(photos)} images, {len(photos.skipped)} skipped")

    # 2. Lay them out in memory: t-SNE → grid for each stop, colour first, each aligned onto the one before.
    layouts = embed.lay_out(photos.features, recipe, embed.LayoutParams(progress=False))
    for layout in layouts:
        m = layout.metrics
        print(f"{layout.name:>10}: colour ratio {m['colour_ratio']:.3f}"
              + (f", category ratio {m['category_ratio']:.2f}" if "category_ratio" in m else ""))

    # 3. Another balance: the middle stop nearer the colour end. The features are reused: nothing is decoded.
    started = time.perf_counter()
    nearer_colour = embed.dial(3, positions=[0.0, 0.1, 1.0])
    again = embed.lay_out(photos.features, nearer_colour, embed.LayoutParams(progress=False))
    print(f"re-laid out with new weights in {time.perf_counter() - started:.1f} s: stop-2 colour ratio "
          f"{again['stop-2'].metrics['colour_ratio']:.3f}")

    # 4. A quick poster of a layout from the cached thumbnails.
    embed.poster(layouts, "stop-2", photos.thumbs, cell_px=32).save(out_dir / "stop-2.png")

    # 5. A feature matrix of your own: here each image's mean Lab colour, laid out as one layout.
    own = embed.lay_out(photos.features.colours, params=embed.LayoutParams(progress=False))
    print(f"own matrix: layout {own.names[0]!r} on a {own.cols} x {own.rows} grid")

    # 6. A layout file with its atlases, for the gallery sketch, `embed info` and `embed poster`.
    path = embed.write_layout_file(out_dir / "tour.json", photos, layouts, progress=False)
    print(f"wrote {path}: try  .venv/bin/python sketches/gallery.py {path}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
