"""scan_folder and open_image on generated files of every accepted format and on broken files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from embed.build.scan import Skipped, scan_folder
from embed.image.file import ImageReadError, open_image
from layoutfile import UserError

REPO = Path(__file__).resolve().parents[2]


def pixel(img: Image.Image, x: int, y: int) -> np.ndarray:
    return np.asarray(img, dtype=int)[y, x]


def test_every_format_decodes_to_its_colour_in_rgb(make_images):
    colour = (40, 160, 90)
    paths = [path for ext in (".jpg", ".JPEG", ".png", ".webp", ".gif", ".tif", ".bmp")
             for path, _ in make_images([colour], folder=f"f{ext}", ext=ext)]
    for path in paths:
        img = open_image(path)
        assert img.mode == "RGB" and img.size == (48, 32), path
        assert np.abs(pixel(img, 24, 16) - colour).max() <= 6, path


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert tuple(pixel(open_image(tmp_path / "anim.gif"), 5, 5)) == (255, 0, 0)


def test_cmyk_jpeg_and_16_bit_png_become_8_bit_rgb(tmp_path):
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")  # pure red in CMYK
    red = open_image(tmp_path / "cmyk.jpg")
    assert red.mode == "RGB" and pixel(red, 8, 8)[0] > 230 and pixel(red, 8, 8)[1:].max() < 30
    Image.fromarray(np.full((16, 16), 32768, dtype=np.uint16)).save(tmp_path / "grey16.png")
    assert Image.open(tmp_path / "grey16.png").mode.startswith("I")
    grey = open_image(tmp_path / "grey16.png")
    assert grey.mode == "RGB" and tuple(pixel(grey, 3, 3)) == (128, 128, 128)


def test_transparency_is_composited_on_the_background(tmp_path):
    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    palette.putpixel((0, 0), 1)
    palette.save(tmp_path / "palette.png", transparency=0)  # index 0 (red) is transparent
    img = open_image(tmp_path / "palette.png", background=(0, 0, 255))
    assert tuple(pixel(img, 5, 5)) == (0, 0, 255) and tuple(pixel(img, 0, 0)) == (0, 255, 0)
    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    rgba.paste((255, 0, 0, 255), (0, 0, 5, 10))  # left half opaque red, right half clear
    rgba.save(tmp_path / "rgba.png")
    img = open_image(tmp_path / "rgba.png", background=(255, 255, 255))
    assert tuple(pixel(img, 1, 5)) == (255, 0, 0) and tuple(pixel(img, 8, 5)) == (255, 255, 255)


def test_exif_orientation_turns_the_pixels_and_the_scanned_size(tmp_path):
    img = Image.new("RGB", (60, 30), (255, 255, 255))
    img.paste((255, 0, 0), (0, 0, 12, 12))  # red marker top-left in the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display = rotate 90° clockwise
    img.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    upright = open_image(tmp_path / "rotated.jpg")
    assert upright.size == (30, 60)
    assert pixel(upright, 25, 3)[1] < 60 and pixel(upright, 3, 3)[1] > 200  # marker now top-right
    records, _ = scan_folder(tmp_path, progress=False)
    assert (records[0].width, records[0].height) == (30, 60)


def test_max_side_downscales_and_jpeg_draft_keeps_enough_pixels(tmp_path):
    Image.new("RGB", (1600, 900), (200, 50, 50)).save(tmp_path / "big.jpg")
    img = open_image(tmp_path / "big.jpg", max_side=100)
    assert img.width == 100 and img.height in (56, 57)
    assert np.abs(pixel(img, 50, 28) - (200, 50, 50)).max() <= 6


def test_bad_files_are_listed_with_reasons_not_fatal(make_images, make_bad_files):
    good = make_images(n=2)
    expected = make_bad_files()
    records, skipped = scan_folder(good[0][0].parent, progress=False)
    assert [r.rel for r in records] == ["img_000.png", "img_001.png"]
    reasons = {s.path: s.reason for s in skipped}
    assert reasons.keys() == expected.keys()
    for name, start in expected.items():
        assert reasons[name].startswith(start), (name, reasons[name])
    assert "400000000 pixels" in reasons["bomb.png"]


def test_open_image_refuses_broken_files_with_a_reason(make_bad_files, tmp_path):
    make_bad_files()
    folder = tmp_path / "images"
    with pytest.raises(ImageReadError, match="truncated"):
        open_image(folder / "truncated.jpg")
    with pytest.raises(ImageReadError, match="not an image"):
        open_image(folder / "text.jpg")
    with pytest.raises(ImageReadError, match="too large"):
        open_image(folder / "bomb.png")
    with pytest.raises(ImageReadError, match="not found"):
        open_image(folder / "absent.png")


def test_pixel_limit_is_configurable(make_images):
    (path, _), = make_images(n=1, size=(100, 100))
    with pytest.raises(UserError, match="no readable images"):
        scan_folder(path.parent, max_pixels=5_000, progress=False)
    with pytest.raises(ImageReadError, match="10000 pixels > limit 5000"):
        open_image(path, max_pixels=5_000)


def test_duplicates_hidden_files_order_and_symlink_loops(make_images, tmp_path):
    made = make_images([(10, 20, 30), (200, 100, 0)], folder="root/b")
    root = tmp_path / "root"
    (root / "a").mkdir()
    (root / "a" / "copy.png").write_bytes(made[1][0].read_bytes())
    (root / "a" / ".hidden.png").write_bytes(made[0][0].read_bytes())
    (root / ".cache").mkdir()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(root / ".cache" / "x.png")
    (root / "notes.txt").write_text("ignored: not an image name")
    os.symlink(root, root / "b" / "loop")  # a folder link back to the root
    records, skipped = scan_folder(root, progress=False)
    assert [r.rel for r in records] == ["a/copy.png", "b/img_000.png"]
    assert [(s.path, s.reason) for s in skipped] == [("b/img_001.png", "duplicate of a/copy.png")]
    assert all(r.path.is_absolute() and len(r.id) == 16 for r in records)
    assert records[0].id != records[1].id
    assert scan_folder(root, progress=False) == (records, skipped)  # deterministic


def test_bad_roots_are_one_line_user_errors(tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        scan_folder(tmp_path / "missing", progress=False)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UserError, match="not a folder"):
        scan_folder(tmp_path / "file.txt", progress=False)
    with pytest.raises(UserError, match="no images found"):
        scan_folder(tmp_path, progress=False)


def test_real_demo_assets_scan_and_decode():
    root = Path(__file__).resolve().parents[2] / "assets" / "demo" / "images"
    records, skipped = scan_folder(root, progress=False)
    assert len(records) + len(skipped) >= 300 and len(records) >= 300
    rgba = [r for r in records if r.rel.endswith(".png")][:3]
    for record in rgba:
        img = open_image(record.path, max_side=64)
        assert img.mode == "RGB" and max(img.size) == 64


@pytest.fixture
def count_reads(monkeypatch):
    """Count the files scan_folder opens to hash (by name); the real reader still runs."""
    from embed.build import scan

    opened: list[str] = []
    real_identify = scan._identify

    def identify(path, max_pixels):
        opened.append(path.name)
        return real_identify(path, max_pixels)

    monkeypatch.setattr(scan, "_identify", identify)
    return opened


def test_id_cache_skips_unchanged_files_and_matches_an_uncached_scan(make_images, make_bad_files, tmp_path,
                                                                     count_reads):
    made = make_images(n=5, ext=".jpg")
    (made[0][0].parent / "copy.jpg").write_bytes(made[2][0].read_bytes())
    bad = make_bad_files()
    root, cache = made[0][0].parent, tmp_path / "cache" / "scan.json"
    uncached = scan_folder(root, progress=False)
    count_reads.clear()

    assert scan_folder(root, progress=False, id_cache=cache) == uncached
    assert len(count_reads) == 6 + len(bad) and cache.is_file()
    count_reads.clear()
    assert scan_folder(root, progress=False, id_cache=cache) == uncached
    assert sorted(count_reads) == sorted(bad)  # only the bad files are read again: they are not cached
    assert ("img_002.jpg", "duplicate of copy.jpg") in [(s.path, s.reason) for s in uncached[1]]


def test_id_cache_rereads_changed_files_and_drops_gone_ones(make_images, tmp_path, count_reads):
    made = make_images([(255, 0, 0), (0, 255, 0), (0, 0, 255)])
    root, cache = made[0][0].parent, tmp_path / "scan.json"
    first, _ = scan_folder(root, progress=False, id_cache=cache)
    count_reads.clear()

    Image.new("RGB", (20, 60), (0, 255, 0)).save(made[0][0])  # new bytes and size
    stat = made[0][0].stat()
    os.utime(made[0][0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # even on coarse-mtime disks
    made[2][0].unlink()
    records, skipped = scan_folder(root, progress=False, id_cache=cache)
    assert count_reads == ["img_000.png"]
    assert (records, skipped) == scan_folder(root, progress=False)
    assert [(r.rel, r.width, r.height) for r in records] == [("img_000.png", 20, 60), ("img_001.png", 48, 32)]
    assert records[0].id != first[0].id and records[1].id == first[1].id
    entries = json.loads(cache.read_text())["entries"]
    assert sorted(Path(key).name for key in entries) == ["img_000.png", "img_001.png"]


def test_id_cache_keeps_other_folders_entries(make_images, tmp_path, count_reads):
    a = make_images(n=2, folder="a")[0][0].parent
    b = make_images(n=3, folder="b")[0][0].parent
    cache = tmp_path / "scan.json"
    scan_folder(a, progress=False, id_cache=cache)
    scan_folder(b, progress=False, id_cache=cache)
    count_reads.clear()
    scan_folder(a, progress=False, id_cache=cache)
    assert count_reads == []
    assert len(json.loads(cache.read_text())["entries"]) == 5


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"version": 1, "entries": []}', b"[1, 2]",
                                     b'{"version": 1, "entries": {"/x.png": [1, 2]}}', b"\xff\xfe\x00"])
def test_a_corrupt_id_cache_is_ignored_and_rewritten(make_images, tmp_path, count_reads, content):
    root = make_images(n=3)[0][0].parent
    cache = tmp_path / "scan.json"
    cache.write_bytes(content)
    assert scan_folder(root, progress=False, id_cache=cache) == scan_folder(root, progress=False)
    assert len(count_reads) == 6
    count_reads.clear()
    scan_folder(root, progress=False, id_cache=cache)
    assert count_reads == []


def test_a_cached_image_above_a_lower_pixel_limit_is_rechecked(make_images, tmp_path):
    root = make_images(n=1, size=(100, 100))[0][0].parent
    cache = tmp_path / "scan.json"
    scan_folder(root, progress=False, id_cache=cache)
    with pytest.raises(UserError, match="10000 pixels > limit 5000"):
        scan_folder(root, max_pixels=5_000, progress=False, id_cache=cache)


def test_ids_are_the_blake2b_of_the_whole_file(make_images):
    (path, _), = make_images(n=1, ext=".jpg")
    records, _ = scan_folder(path.parent, progress=False)
    assert records[0].id == hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()


def test_file_names_that_are_not_utf8_are_kept_losslessly(tmp_path):
    folder = os.fsencode(tmp_path / "images")
    os.mkdir(folder)
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(buffer, "PNG")
    with open(folder + b"/caf\xe9 \xff.png", "wb") as file:
        file.write(buffer.getvalue())
    records, skipped = scan_folder(tmp_path / "images", progress=False)
    assert not skipped and os.fsencode(records[0].rel) == b"caf\xe9 \xff.png"
    assert tuple(pixel(open_image(records[0].path), 5, 5)) == (200, 30, 30)


def test_fifos_sockets_and_devices_are_listed_as_skipped_never_opened(tmp_path, make_images, no_hang):
    make_images(n=2)
    os.mkfifo(tmp_path / "images" / "pipe.jpg")
    os.mkfifo(tmp_path / "images" / "queue")                        # not named like an image: listed all the same
    (tmp_path / "images" / "sub").mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(tmp_path / "images" / "sub" / "control.sock"))
        os.symlink("/dev/null", tmp_path / "images" / "null.png")
        records, skipped = scan_folder(tmp_path / "images", progress=False)
    assert [r.rel for r in records] == ["img_000.png", "img_001.png"]
    assert skipped == [Skipped("null.png", "not a regular file (a character device)"),
                       Skipped("pipe.jpg", "not a regular file (a FIFO)"),
                       Skipped("queue", "not a regular file (a FIFO)"),
                       Skipped("sub/control.sock", "not a regular file (a socket)")]
    with pytest.raises(ImageReadError, match=r"pipe.jpg: not a regular file \(a FIFO\)"):
        open_image(tmp_path / "images" / "pipe.jpg")


def test_excluded_folders_are_not_scanned(make_images, tmp_path):
    make_images(n=2)
    make_images(n=3, folder="images/out/layout_atlas/32")
    records, _ = scan_folder(tmp_path / "images", progress=False, exclude=(tmp_path / "images" / "out",))
    assert [r.rel for r in records] == ["img_000.png", "img_001.png"]


BIG_FILE_SCAN = """
import re, sys
from pathlib import Path
from embed.build.scan import scan_folder
records, skipped = scan_folder(Path(sys.argv[1]), progress=False)
peak_kib = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1]  # this process's own peak
print(len(records), int(peak_kib) * 1024)
"""


def test_a_big_file_is_hashed_in_chunks_not_read_into_memory(tmp_path):
    """1 GiB (sparse: a small JPEG, then zeros): the scan's peak memory stays far below the file's size."""
    folder = tmp_path / "big"
    folder.mkdir()
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(buffer, "JPEG")
    with open(folder / "big.jpg", "wb") as file:
        file.write(buffer.getvalue())
        file.truncate(1 << 30)
    done = subprocess.run([sys.executable, "-c", BIG_FILE_SCAN, str(folder)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    count, peak = (int(v) for v in done.stdout.split())
    assert count == 1 and peak < 250 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"
