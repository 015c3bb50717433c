"""Square thumbnails and texture atlases (sheets of equal cells, several levels of detail).

Atlas layout (docs/layout-format.md): image i lives in sheet i // k² at cell i % k² at every level,
where k = cells_per_side; cell c of a sheet sits at pixel ((c % k) * cell_px, (c // k) * cell_px).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from embed.atomic import atomic_path
from embed.errors import UserError

FITS = ("crop", "pad")
JPEG_QUALITY = 90


def square_thumbnail(img: Image.Image, size: int, fit: str = "crop",
                     background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """A (size, size, 3) uint8 thumbnail: "crop" = centre-crop to a square, "pad" = letterbox on `background`."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    if fit == "crop":
        thumb = ImageOps.fit(img, (size, size), Image.Resampling.LANCZOS)
    elif fit == "pad":
        thumb = ImageOps.pad(img, (size, size), Image.Resampling.LANCZOS, color=tuple(background))
    else:
        raise UserError(f"thumbnail fit must be one of {', '.join(FITS)}, not {fit!r}")
    return np.asarray(thumb, dtype=np.uint8)


def thumb_source_side(width: int, height: int, size: int, fit: str = "crop") -> int:
    """The long side to decode an image at (open_image's max_side) so its `size` thumbnail needs no upscaling."""
    if fit == "crop":
        return int(np.ceil(size * max(width, height) / max(1, min(width, height))))
    return size


def write_atlases(thumbs: np.ndarray, out_dir: Path, rel_prefix: str, cell_sizes: tuple[int, ...] = (32, 128),
                  cells_per_side: int = 64, progress: bool = True) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Write atlas sheets of `thumbs` (N, S, S, 3) uint8 (a np.memmap is fine) and describe them.

    Sheets go to `out_dir/<rel_prefix>/<cell_px>/<sheet:03d>.jpg` and are listed relative to `out_dir`
    (the layout JSON's folder) as `<rel_prefix>/<cell_px>/<sheet:03d>.jpg`. Every level has the same k × k
    cells per sheet; smaller levels are Lanczos-downscaled from the thumbnails. One sheet is in
    memory at a time; each file is written atomically. Returns (atlas levels for the layout JSON,
    sheet index (N,), cell index (N,)).
    """
    n, size = len(thumbs), thumbs.shape[1]
    k = cells_per_side
    per_sheet = k * k
    n_sheets = max(1, -(-n // per_sheet))
    levels = [{"cell_px": int(cell), "sheet_px": int(cell * k),
               "files": [f"{rel_prefix}/{cell}/{s:03d}.jpg" for s in range(n_sheets)]}
              for cell in cell_sizes]
    with tqdm(total=n_sheets * len(cell_sizes), desc="atlas", unit="sheet", disable=not progress) as bar:
        for s in range(n_sheets):
            block = thumbs[s * per_sheet:(s + 1) * per_sheet]  # a memmap stays on disk
            for cell in cell_sizes:
                sheet = np.zeros((k * cell, k * cell, 3), dtype=np.uint8)
                for c, thumb in enumerate(block):
                    if cell != size:
                        thumb = np.asarray(Image.fromarray(thumb).resize((cell, cell), Image.Resampling.LANCZOS))
                    y, x = (c // k) * cell, (c % k) * cell
                    sheet[y:y + cell, x:x + cell] = thumb
                with atomic_path(Path(out_dir) / rel_prefix / str(cell) / f"{s:03d}.jpg") as tmp:
                    Image.fromarray(sheet).save(tmp, quality=JPEG_QUALITY, subsampling=0)  # 4:4:4: no colour bleed
                bar.update()
    index = np.arange(n)
    return levels, index // per_sheet, index % per_sheet
