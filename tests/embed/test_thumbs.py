"""Square thumbnails (crop/pad geometry) and atlas sheets read back as pixels."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from embed.image.file import open_image
from embed.build.thumbs import atlas_order, write_atlases
from embed.image.square import square_thumbnail, thumb_source_side
from layoutfile import UserError, file_digest


def striped(width: int, height: int) -> Image.Image:
    """Green in the middle, red at the left/top edge band and blue at the right/bottom one (¼ each)."""
    img = Image.new("RGB", (width, height), (0, 255, 0))
    if width >= height:
        img.paste((255, 0, 0), (0, 0, width // 4, height))
        img.paste((0, 0, 255), (width - width // 4, 0, width, height))
    else:
        img.paste((255, 0, 0), (0, 0, width, height // 4))
        img.paste((0, 0, 255), (0, height - height // 4, width, height))
    return img


def test_crop_keeps_the_centre_of_a_wide_image():
    thumb = square_thumbnail(striped(200, 100), 32, "crop")
    assert thumb.shape == (32, 32, 3) and thumb.dtype == np.uint8
    green = np.array([0, 255, 0])
    assert np.abs(thumb[:, 2:30].astype(int) - green).max() <= 10  # red/blue edge bands cut off
    assert thumb[:, 0, 0].max() < 80 and thumb[:, 31, 2].max() < 80


def test_pad_letterboxes_a_tall_image_on_the_background():
    thumb = square_thumbnail(striped(50, 100), 40, "pad", background=(9, 9, 9))
    assert thumb.shape == (40, 40, 3)
    assert (thumb[:, :8] == 9).all() and (thumb[:, -8:] == 9).all()  # 10 px bars left and right
    assert tuple(thumb[2, 20]) == (255, 0, 0) and tuple(thumb[37, 20]) == (0, 0, 255)  # whole image kept
    assert tuple(thumb[20, 20]) == (0, 255, 0)


def test_unknown_fit_is_a_user_error():
    with pytest.raises(UserError, match="crop, pad"):
        square_thumbnail(striped(10, 10), 8, "stretch")


def test_source_side_avoids_upscaling_the_short_side():
    assert thumb_source_side(400, 100, 32, "crop") == 128
    assert thumb_source_side(100, 400, 32, "pad") == 32


def test_atlas_cells_hold_each_images_colour_at_every_level(make_images, tmp_path):
    made = make_images(n=11, size=(30, 20), ext=".png")
    thumbs = np.stack([square_thumbnail(open_image(path), 16) for path, _ in made])
    levels, sheet, cell = write_atlases(thumbs, tmp_path / "out", "x_atlas", cell_sizes=(8, 16), cells_per_side=3, progress=False)
    assert [(lv["cell_px"], lv["sheet_px"]) for lv in levels] == [(8, 24), (16, 48)]
    assert [re.sub("-[0-9a-f]{16}", "-H", f) for f in levels[0]["files"]] == ["x_atlas/8/000-H.jpg", "x_atlas/8/001-H.jpg"]
    assert sheet.tolist() == [0] * 9 + [1] * 2 and cell.tolist() == list(range(9)) + [0, 1]
    for level in levels:
        px = level["cell_px"]
        k = level["sheet_px"] // px
        sheets = [np.asarray(Image.open(tmp_path / "out" / f), dtype=int) for f in level["files"]]
        assert all(s.shape == (level["sheet_px"], level["sheet_px"], 3) for s in sheets)
        for i, (_, colour) in enumerate(made):
            x, y = (cell[i] % k) * px, (cell[i] // k) * px
            centre = sheets[sheet[i]][y + px // 2 - 1:y + px // 2 + 1, x + px // 2 - 1:x + px // 2 + 1]
            assert np.abs(centre - colour).max() <= 12, (level["cell_px"], i)
        unused = sheets[1][px:, :]  # the second sheet only fills two cells of its first row
        assert unused.max() <= 12


def test_atlas_reads_thumbs_from_a_memmap(make_images, tmp_path):
    made = make_images(n=5)
    store = np.lib.format.open_memmap(tmp_path / "thumbs.npy", mode="w+", dtype=np.uint8, shape=(5, 8, 8, 3))
    for i, (path, _) in enumerate(made):
        store[i] = square_thumbnail(open_image(path), 8)
    levels, sheet, cell = write_atlases(store, tmp_path, "a", cell_sizes=(8,), cells_per_side=2, progress=False)
    last = np.asarray(Image.open(tmp_path / levels[0]["files"][1]), dtype=int)
    assert sheet[4] == 1 and cell[4] == 0 and np.abs(last[4, 4] - made[4][1]).max() <= 12


def test_atlas_order_keeps_grid_windows_on_few_sheets():
    cols, rows, k = 200, 120, 8
    rng = np.random.default_rng(0)
    flat = np.sort(rng.choice(cols * rows, size=cols * rows - 700, replace=False))  # some empty cells
    grid = np.stack([flat // rows, flat % rows], axis=1)
    rng.shuffle(grid)
    order = atlas_order(grid, k)
    assert sorted(order.tolist()) == list(range(len(grid)))
    sheet_at = np.full((cols, rows), -1)
    sheet_at[grid[order, 0], grid[order, 1]] = np.arange(len(grid)) // (k * k)
    most = max(len(np.setdiff1d(np.unique(sheet_at[c:c + k, r:r + k]), [-1]))
               for c in range(cols - k + 1) for r in range(rows - k + 1))
    assert most <= 4
    scan_order = np.arange(len(grid)) // (k * k)  # what filling sheets in input order gives, for contrast
    sheet_at[grid[:, 0], grid[:, 1]] = scan_order
    assert len(np.unique(sheet_at[:k, :k])) > 20


def test_atlas_in_given_order_puts_each_image_in_its_slot(make_images, tmp_path):
    made = make_images(n=7)
    thumbs = np.stack([square_thumbnail(open_image(path), 16) for path, _ in made])
    order = np.array([5, 2, 6, 0, 3, 1, 4])  # slot p holds image order[p]
    levels, sheet, cell = write_atlases(thumbs, tmp_path, "o", cell_sizes=(8, 16), cells_per_side=2, order=order,
                                        progress=False)
    assert (sheet * 4 + cell)[order].tolist() == list(range(7))
    for level in levels:
        px = level["cell_px"]
        sheets = [np.asarray(Image.open(tmp_path / f), dtype=int) for f in level["files"]]
        for i, (_, colour) in enumerate(made):
            x, y = (cell[i] % 2) * px, (cell[i] // 2) * px
            assert np.abs(sheets[sheet[i]][y + px // 2, x + px // 2] - colour).max() <= 12, (px, i)
    with pytest.raises(ValueError, match="permutation"):
        write_atlases(thumbs, tmp_path, "o", cell_sizes=(16,), cells_per_side=2, order=order[:-1], progress=False)


def test_sheets_are_named_by_content_recorded_with_size_and_digest_and_not_rewritten(make_images, tmp_path):
    made = make_images(n=5)
    thumbs = np.stack([square_thumbnail(open_image(path), 8) for path, _ in made])
    levels, _, _ = write_atlases(thumbs, tmp_path, "a", cell_sizes=(4, 8), cells_per_side=2, progress=False)
    for level in levels:
        assert len(level["files"]) == len(level["bytes"]) == len(level["blake2b"]) == 2
        for rel, size, digest in zip(level["files"], level["bytes"], level["blake2b"]):
            assert file_digest(tmp_path / rel) == (size, digest) and rel.endswith(f"-{digest[:16]}.jpg")
    inodes = {rel: (tmp_path / rel).stat().st_ino for level in levels for rel in level["files"]}
    thumbs[4] = 255 - thumbs[4]   # changes the second sheet only
    again, _, _ = write_atlases(thumbs, tmp_path, "a", cell_sizes=(4, 8), cells_per_side=2, progress=False)
    for old, new in zip(levels, again):
        assert new["files"][0] == old["files"][0] and (tmp_path / old["files"][0]).stat().st_ino == inodes[old["files"][0]]
        assert new["files"][1] != old["files"][1] and (tmp_path / old["files"][1]).is_file()   # old sheet untouched
