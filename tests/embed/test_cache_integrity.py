"""A damaged cache is repaired, never trusted (issue 19): each store's rows.bin overwritten in the middle with random
bytes or with plausible values, or its ids.txt garbled or reordered, is logged, its damaged rows are computed again,
and the build writes the clean build's JSON byte for byte (but its timestamp)."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from embed.build.cache import RowStore
from embed.cli import main
from tests.embed.test_pipeline import write_family_images

BUILD_ARGS = ["--weights", "random", "--model", "resnet18", "--blur", "8", "--atlas-cells", "16,32", "--grid", "lap",
              "--workers", "0", "--quiet", "--fresh"]
STORES = {"features": "features_*", "thumbnails": "thumbs_*", "colours": "colours-lab_*",
          "colour blocks": "colour-blocks_*"}


def beside(images: Path, tmp_path: Path, name: str = "build") -> Path:
    """A layout path at the clean build's depth, so that its recorded source (`../images`) is the same."""
    return images.parent / f"{tmp_path.name}-{name}" / "layout.json"


def without_timestamp(path: Path) -> str:
    text = path.read_text()
    assert text.count('"created":') == 1
    return re.sub(r'"created":"[^"]*"', '"created":""', text)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """(images folder, a clean build's cache, its JSON without timestamp)."""
    root = tmp_path_factory.mktemp("clean")
    write_family_images(root / "images")
    out = root / "build" / "layout.json"
    assert main([str(root / "images"), "-o", str(out), "--cache", str(root / "cache"), *BUILD_ARGS]) == 0
    return root / "images", root / "cache", without_timestamp(out)


def random_bytes_in_the_middle(path: Path, rng: np.random.Generator) -> None:
    data = bytearray(path.read_bytes())
    start, length = len(data) // 3, max(len(data) // 4, 1)
    data[start:start + length] = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def plausible_rows(folder: Path, rng: np.random.Generator) -> None:
    """Rows in the middle replaced by other rows of the store, slightly changed: the values a store holds, finite."""
    store = RowStore(folder, dtype=np.uint8 if folder.name.startswith("thumbs") else np.float32)
    rows = np.array(store.rows())
    middle = slice(len(rows) // 3, len(rows) // 3 + 5)
    replaced = rows[rng.permutation(len(rows))[:5]]
    rows[middle] = replaced + (1 if rows.dtype == np.uint8 else 0.01 * replaced.std())
    (folder / "rows.bin").write_bytes(rows.tobytes())


def build_with(cache: Path, images: Path, out: Path, caplog) -> list[str]:
    """Build into `out` (beside the clean build, so that the source recorded is the same) from `cache`; return
    the cache's log lines."""
    with caplog.at_level(logging.WARNING, logger="embed.build.cache"):
        assert main([str(images), "-o", str(out), "--cache", str(cache), *BUILD_ARGS]) == 0
    return [r.getMessage() for r in caplog.records if r.name == "embed.build.cache"]


@pytest.mark.parametrize("way", ["random bytes", "plausible values"])
@pytest.mark.parametrize("store", list(STORES))
def test_a_damaged_store_is_recomputed_and_the_build_equals_a_clean_one(clean, tmp_path, caplog, store, way):
    images, clean_cache, clean_json = clean
    cache = tmp_path / "cache"
    shutil.copytree(clean_cache, cache)
    folder, = cache.glob(STORES[store])
    rng = np.random.default_rng(19)
    if way == "random bytes":
        random_bytes_in_the_middle(folder / "rows.bin", rng)
    else:
        plausible_rows(folder, rng)
    logged = build_with(cache, images, beside(images, tmp_path), caplog)
    assert without_timestamp(beside(images, tmp_path)) == clean_json
    assert len(logged) == 1 and logged[0].startswith(f"{folder}: ") and "damaged" in logged[0], logged
    assert build_with(cache, images, beside(images, tmp_path, "again"), caplog) == logged   # repaired: no new line


@pytest.mark.parametrize("way", ["random bytes", "lines swapped"])
def test_damaged_ids_are_recomputed_and_the_build_equals_a_clean_one(clean, tmp_path, caplog, way):
    images, clean_cache, clean_json = clean
    cache = tmp_path / "cache"
    shutil.copytree(clean_cache, cache)
    folder, = cache.glob(STORES["features"])
    ids = folder / "ids.txt"
    if way == "random bytes":
        random_bytes_in_the_middle(ids, np.random.default_rng(19))
    else:
        lines = ids.read_text().splitlines(keepends=True)
        lines[3], lines[20] = lines[20], lines[3]   # each row now answers for another image
        ids.write_text("".join(lines))
    logged = build_with(cache, images, beside(images, tmp_path), caplog)
    assert without_timestamp(beside(images, tmp_path)) == clean_json
    assert len(logged) == 1 and "damaged" in logged[0], logged


def test_a_cache_without_checksums_is_emptied_and_rebuilt(clean, tmp_path, caplog):
    images, clean_cache, clean_json = clean
    cache = tmp_path / "cache"
    shutil.copytree(clean_cache, cache)
    for sums in cache.glob("*/sums.bin"):   # as an older version left it
        sums.unlink()
    logged = build_with(cache, images, beside(images, tmp_path), caplog)
    assert without_timestamp(beside(images, tmp_path)) == clean_json
    assert len(logged) == len(STORES) and all("without checksums: emptied" in line for line in logged), logged


def test_a_non_finite_row_with_a_matching_sum_is_treated_as_missing(tmp_path, caplog):
    store = RowStore(tmp_path / "f", dtype=np.float32, shape=(3,))
    store.append(["0a", "0b"], np.array([[1, 2, 3], [np.nan, 0, 0]], dtype=np.float32))
    with caplog.at_level(logging.WARNING, logger="embed.build.cache"):
        _, missing = RowStore(tmp_path / "f", dtype=np.float32).get(["0a", "0b"])
    assert missing.tolist() == [False, True]
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path / 'f'}: 1 cached row(s) damaged (checksum mismatch or not finite): treated as missing, "
        "computed again"]
