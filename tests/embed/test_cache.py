"""The append-only row store: lookups with a missing mask, memory-mapped reads, and crash recovery."""

from __future__ import annotations

import numpy as np
import pytest

from embed.build.cache import RowStore, kind_folder_name
from layoutfile import UserError


def rows_for(ids: list[str], dim: int = 5) -> np.ndarray:
    """Rows whose values encode their id, so a row read back can be checked against its id."""
    return np.array([[int(i, 16) + j for j in range(dim)] for i in ids], dtype=np.float32)


def test_append_then_get_returns_rows_in_asked_order_with_missing_mask(tmp_path):
    store = RowStore(tmp_path / "f", dtype=np.float32, shape=(5,))
    store.append(["0a", "0b", "0c"], rows_for(["0a", "0b", "0c"]))
    store.append(["1d"], rows_for(["1d"]))

    rows, missing = store.get(["1d", "ff", "0a", "0c"])

    assert missing.tolist() == [False, True, False, False]
    np.testing.assert_array_equal(rows[[0, 2, 3]], rows_for(["1d", "0a", "0c"]))
    assert not rows[1].any()
    assert len(store) == 4 and "0b" in store and "ff" not in store


def test_reopened_store_sees_the_rows_and_reads_them_through_a_memory_map(tmp_path):
    ids = [f"{i:04x}" for i in range(300)]
    RowStore(tmp_path / "f", dtype=np.float32, shape=(5,)).append(ids, rows_for(ids))

    store = RowStore(tmp_path / "f", dtype=np.float32)  # shape comes from the folder's meta.json

    assert store.shape == (5,) and len(store) == 300
    assert isinstance(store.rows(), np.memmap)
    view = store.view(ids[::-7])
    assert view.shape == (len(ids[::-7]), 5)
    np.testing.assert_array_equal(view[3], rows_for([ids[::-7][3]])[0])
    np.testing.assert_array_equal(np.asarray(view), rows_for(ids[::-7]))
    np.testing.assert_array_equal(view[2:5], rows_for(ids[::-7][2:5]))


def test_thumbnail_sized_rows_are_not_all_loaded_to_read_a_few(tmp_path):
    store = RowStore(tmp_path / "t", dtype=np.uint8, shape=(128, 128, 3))
    ids = [f"{i:04x}" for i in range(64)]
    thumbs = np.random.default_rng(0).integers(0, 256, (64, 128, 128, 3), dtype=np.uint8)
    for start in range(0, 64, 16):
        store.append(ids[start:start + 16], thumbs[start:start + 16])

    view = store.view(list(reversed(ids)))

    assert isinstance(store.rows(), np.memmap)
    assert (tmp_path / "t" / "rows.bin").stat().st_size == 64 * 128 * 128 * 3
    np.testing.assert_array_equal(view[0], thumbs[63])
    np.testing.assert_array_equal(view[10:12], thumbs[[53, 52]])


def test_torn_last_row_and_id_line_of_a_killed_run_are_ignored_and_cut_on_next_append(tmp_path):
    folder = tmp_path / "f"
    store = RowStore(folder, dtype=np.float32, shape=(5,))
    store.append(["0a", "0b"], rows_for(["0a", "0b"]))
    # A run killed mid-batch: half a row written, and an id line without its newline.
    with open(folder / "rows.bin", "ab") as f:
        f.write(rows_for(["0c"]).tobytes()[:7])
    with open(folder / "ids.txt", "ab") as f:
        f.write(b"0")

    reopened = RowStore(folder, dtype=np.float32)
    assert len(reopened) == 2 and reopened.locate(["0a", "0b", "0c"])[1].tolist() == [False, False, True]

    reopened.append(["0d"], rows_for(["0d"]))
    again = RowStore(folder, dtype=np.float32)
    rows, missing = again.get(["0a", "0b", "0d"])
    assert not missing.any()
    np.testing.assert_array_equal(rows, rows_for(["0a", "0b", "0d"]))
    assert (folder / "ids.txt").read_text() == "0a\n0b\n0d\n"
    assert (folder / "rows.bin").stat().st_size == 3 * 5 * 4


def test_rows_written_without_their_ids_do_not_count(tmp_path):
    folder = tmp_path / "f"
    store = RowStore(folder, dtype=np.float32, shape=(5,))
    store.append(["0a"], rows_for(["0a"]))
    with open(folder / "rows.bin", "ab") as f:  # killed after the rows were synced, before the ids
        f.write(rows_for(["0b", "0c"]).tobytes())

    reopened = RowStore(folder, dtype=np.float32)
    assert len(reopened) == 1
    reopened.append(["0e"], rows_for(["0e"]))
    np.testing.assert_array_equal(RowStore(folder, dtype=np.float32).get(["0e"])[0], rows_for(["0e"]))


def test_two_stores_on_one_folder_see_each_others_appends(tmp_path):
    first = RowStore(tmp_path / "f", dtype=np.float32, shape=(5,))
    second = RowStore(tmp_path / "f", dtype=np.float32, shape=(5,))
    first.append(["0a"], rows_for(["0a"]))
    second.append(["0b"], rows_for(["0b"]))  # takes the lock, reads 0a's line, appends after it
    first.append(["0c"], rows_for(["0c"]))

    rows, missing = RowStore(tmp_path / "f", dtype=np.float32).get(["0a", "0b", "0c"])
    assert not missing.any()
    np.testing.assert_array_equal(rows, rows_for(["0a", "0b", "0c"]))


def test_shape_mismatch_and_bad_input_are_refused(tmp_path):
    RowStore(tmp_path / "f", dtype=np.float32, shape=(5,)).append(["0a"], rows_for(["0a"]))
    with pytest.raises(UserError, match="shape"):
        RowStore(tmp_path / "f", dtype=np.float32, shape=(7,))
    store = RowStore(tmp_path / "f", dtype=np.float32)
    with pytest.raises(ValueError):
        store.append(["0b", "0c"], rows_for(["0b"]))
    with pytest.raises(ValueError):
        store.append(["has space"], rows_for(["0b"]))


def test_store_without_rows_yet_reports_everything_missing(tmp_path):
    store = RowStore(tmp_path / "f", dtype=np.float32)
    rows, missing = store.get(["0a", "0b"])
    assert missing.all() and len(store) == 0
    store.append(["0a"], rows_for(["0a"], dim=3))  # the first append sets the row width
    assert RowStore(tmp_path / "f", dtype=np.float32).shape == (3,)


def test_kind_folder_names_are_filesystem_safe_and_distinct():
    a = kind_folder_name(kind="features", model="resnet18", weights="file:ab12", blur="r8", size="s112")
    b = kind_folder_name(kind="features", model="resnet18", weights="file:ab12", blur="r8", size="s224")
    assert a == "features_resnet18_file-ab12_r8_s112" and a != b
