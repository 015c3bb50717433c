"""The layout-file contract v3: documents built, written, read back, v1 and v2 files still read, and the ways a file
can break the rules (more hostile shapes in test_hostile.py)."""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest

from layoutfile import (FORMAT, LAYOUTS, STATES, VERSION, LayoutFileError, UserError, build_layout, cell_origin,
                        display_arrays, layout_arrays, layout_names, read_layout, toggle, tsne_world, validate_layout, write_layout)

GRID = {"blur": [[0, 0], [1, 0], [0, 1]], "combined": [[1, 1], [0, 0], [1, 0]]}
TSNE = {"blur": [[0.0, 0.0], [1.0, 0.25], [0.5, 0.5]], "combined": [[0.2, 1.0], [0.0, 0.0], [1.0, 0.1234567]]}


def small_document(**params) -> dict:
    """Three images on a 2 x 2 grid, one atlas level."""
    images = [{"id": f"id{i}", "path": f"{i}.png", "width": 8, "height": 8, "atlas_sheet": 0, "atlas_cell": i}
              for i in range(3)]
    return build_layout(generator_version="9.9", params=params, images=images, cols=2, rows=2,
                        atlas_levels=[{"cell_px": 8, "sheet_px": 16, "files": ["atlas/8/000.png"]}],
                        layouts={name: {"label": name, "tsne": np.array(TSNE[name]), "grid": np.array(GRID[name]),
                                        "metrics": {"m": 1.5}} for name in LAYOUTS},
                        skipped=[{"path": "bad.jpg", "reason": "truncated JPEG"}])


def test_names_and_toggle():
    assert LAYOUTS == ("blur", "combined") and STATES == ("tsne", "grid")
    assert toggle("blur", LAYOUTS) == "combined" and toggle("combined", LAYOUTS) == "blur"
    assert toggle("tsne", STATES) == "grid" and toggle("grid", STATES) == "tsne"
    with pytest.raises(ValueError):
        toggle("spiral", STATES)


def test_built_document_has_the_contract_fields_and_plain_json_values():
    doc = small_document(seed=0)
    assert doc["format"] == FORMAT and doc["version"] == VERSION == 3
    assert doc["layout_order"] == ["blur", "combined"]
    assert doc["generator"] == {"name": "tsne-gallery", "version": "9.9"}
    assert doc["grid"] == {"cols": 2, "rows": 2}
    assert doc["layouts"]["combined"]["tsne"][2] == [1.0, 0.123457]   # rounded to 6 decimals
    assert doc["layouts"]["blur"]["grid"] == GRID["blur"]
    assert json.loads(json.dumps(doc)) == doc


def test_written_file_reads_back_with_an_absolute_source(tmp_path):
    path = tmp_path / "out" / "layout.json"
    write_layout(path, small_document(source="../images"))
    doc = read_layout(path)
    assert doc["params"]["source"] == os.path.normpath(tmp_path / "images")
    tsne, grid = layout_arrays(doc, "combined")
    assert tsne.dtype == np.float64 and tsne.shape == (3, 2) and grid.dtype == np.int64
    assert grid.tolist() == GRID["combined"]
    write_layout(path, small_document(source="/abs/images"))
    assert read_layout(path)["params"]["source"] == "/abs/images"


def changed(doc: dict, change) -> dict:
    """A deep copy of `doc` with `change` applied."""
    doc = copy.deepcopy(doc)
    change(doc)
    return doc


def broken(change) -> dict:
    return changed(small_document(), change)


@pytest.mark.parametrize("change, reason", [
    (lambda d: d.update(format="other/thing"), "not a tsne-gallery layout"),
    (lambda d: d.update(version="1"), "non-integer 'version'"),
    (lambda d: d.update(version=0), "non-integer 'version' \\(1 or more\\)"),
    (lambda d: d.update(version=VERSION + 1), "newer than this program reads"),
    (lambda d: d.pop("atlas"), "missing 'atlas'"),
    (lambda d: d.update(images={}), "'images' is not a list"),
    (lambda d: d["images"][1].pop("atlas_cell"), r"images\[1\] lacks"),
    (lambda d: d["atlas"].update(levels=[]), "'atlas.levels' is empty"),
    (lambda d: d.update(grid={"cols": 0, "rows": 2}), "positive integer cols and rows"),
    (lambda d: d.update(grid={"cols": 1, "rows": 2}), "fewer cells than the 3 images"),
    (lambda d: d["layouts"].pop("combined"), "'layout_order' must name every layout once"),
    (lambda d: d.update(layout_order=["combined", "blur", "blur"]), "'layout_order' must name every layout once"),
    (lambda d: d.update(version=2, layout_order=None) or d["layouts"].pop("combined"), "layout 'combined' is missing"),
    (lambda d: d["layouts"].update(Bad=d["layouts"]["blur"]) or d["layout_order"].append("Bad"),
     "layout name 'Bad' must be 1 to 40"),
    (lambda d: d["layouts"]["blur"].update(recipe=[1]), r"layouts.blur.recipe' is not an object"),
    (lambda d: d["layouts"]["blur"].update(tsne=[["a", "b"]] * 3), r"must be 3 pairs of numbers"),
    (lambda d: d["layouts"]["blur"].update(tsne=[[0, 0]] * 2), r"one per image\), got shape \(2, 2\)"),
    (lambda d: d["layouts"]["blur"].update(tsne=[[0, 0], [0, 1.5], [0, 0]]), r"must be finite and lie in \[0, 1\]"),
    (lambda d: d["layouts"]["blur"].update(grid=[[0, 0], [2, 0], [0, 1]]), "integers inside 2x2"),
    (lambda d: d["layouts"]["blur"].update(grid=[[0, 0], [0, 0], [0, 1]]), "two images share a grid cell"),
])
def test_each_broken_rule_is_a_one_line_error_naming_the_file(change, reason):
    with pytest.raises(LayoutFileError, match=reason) as caught:
        validate_layout(broken(change), source="my.json")
    assert str(caught.value).startswith("my.json: ") and "\n" not in str(caught.value)


def test_not_an_object_is_rejected():
    with pytest.raises(LayoutFileError, match="top level is not a JSON object"):
        validate_layout([1, 2])


def test_files_that_cannot_be_read_are_layout_file_errors(tmp_path):
    assert issubclass(LayoutFileError, UserError)
    with pytest.raises(LayoutFileError, match="no such layout file .*python -m embed"):
        read_layout(tmp_path / "missing.json")
    half = tmp_path / "half.json"
    half.write_text(json.dumps(small_document())[:100])
    with pytest.raises(LayoutFileError, match="not valid JSON"):
        read_layout(half)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(broken(lambda d: d.update(version=VERSION + 1))))
    with pytest.raises(LayoutFileError, match=f"newer.json: layout version {VERSION + 1} is newer"):
        read_layout(newer)


def test_an_invalid_document_is_never_written(tmp_path):
    path = tmp_path / "layout.json"
    write_layout(path, small_document())
    before = path.read_bytes()
    with pytest.raises(LayoutFileError):
        write_layout(path, broken(lambda d: d["layouts"].pop("blur")))
    assert path.read_bytes() == before


def test_layouts_come_back_in_the_files_order_with_their_recipes(tmp_path):
    doc = small_document()
    doc["layouts"] = {"stop-2": {**doc["layouts"]["blur"], "recipe": {"ingredients": [{"kind": "colour"}]}},
                      **doc["layouts"]}
    doc["layout_order"] = ["blur", "stop-2", "combined"]   # the file order of the object is not the layout order
    path = tmp_path / "three.json"
    write_layout(path, doc)
    read = read_layout(path)
    assert layout_names(read) == list(read["layouts"]) == ["blur", "stop-2", "combined"]
    assert read["layouts"]["stop-2"]["recipe"] == {"ingredients": [{"kind": "colour"}]}


def test_version_2_files_read_in_the_order_blur_combined(tmp_path):
    doc = small_document()
    doc.pop("layout_order")
    doc.update(version=2, layouts={"combined": doc["layouts"]["combined"], "blur": doc["layouts"]["blur"]})
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(doc))
    assert layout_names(read_layout(path)) == ["blur", "combined"]


def test_a_sharper_level_with_fewer_cells_per_sheet_bounds_atlas_cell():
    doc = small_document()
    doc["atlas"]["levels"].append({"cell_px": 16, "sheet_px": 16, "files": ["atlas/16/000.png"]})   # 1 cell a sheet
    with pytest.raises(LayoutFileError, match=r"'images\[1\].atlas_cell' must be a whole number from 0 to 0"):
        validate_layout(doc)


def test_display_keys_are_written_read_back_and_optional(tmp_path):
    display = np.array([[0.1, 0.2], [0.9, 0.3], [0.5, 0.7]])
    doc = small_document()
    doc["layouts"]["blur"].update(tsne_display=display.tolist(), tsne_image_size=0.75)
    path = tmp_path / "layout.json"
    write_layout(path, doc)
    back = read_layout(path)
    positions, size = display_arrays(back, "blur")
    assert positions.tolist() == display.tolist() and size == 0.75
    positions, size = display_arrays(back, "combined")          # absent: the raw map, the grid's size
    assert positions.tolist() == TSNE["combined"][:2] + [[1.0, 0.123457]] and size is None
    built = build_layout(generator_version="9.9", params={}, images=doc["images"], cols=2, rows=2,
                         atlas_levels=doc["atlas"]["levels"], skipped=[],
                         layouts={name: {"label": name, "tsne": np.array(TSNE[name]), "grid": np.array(GRID[name]),
                                         "tsne_display": display + 1e-9, "tsne_image_size": 0.123456789}
                                  for name in LAYOUTS})
    assert built["layouts"]["combined"]["tsne_display"][0] == [0.1, 0.2]
    assert built["layouts"]["combined"]["tsne_image_size"] == 0.123457


def test_version_1_files_still_load(tmp_path):
    doc = small_document()
    doc["version"] = 1
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(doc))
    back = read_layout(path)
    assert back["version"] == 1
    positions, size = display_arrays(back, "blur")
    assert positions.tolist() == TSNE["blur"] and size is None


def test_tsne_world_fits_the_cloud_into_the_box_of_image_centres():
    world = tsne_world(np.array([[0.0, 0.0], [1.0, 0.5]]), cols=5, rows=3)
    assert world.tolist() == [[0.5, 0.5], [4.5, 2.5]]          # x fills [0.5, 4.5]; y fits exactly too
    world = tsne_world(np.array([[0.0, 0.0], [1.0, 0.1]]), cols=5, rows=3)
    assert world == pytest.approx(np.array([[0.5, 1.3], [4.5, 1.7]]))   # thin cloud: centred vertically
    assert tsne_world(np.array([[0.3, 0.3]]), cols=5, rows=3).tolist() == [[2.5, 1.5]]


def test_cell_origin_is_row_major_within_a_sheet():
    assert cell_origin(0, 32, 128) == (0, 0)
    assert cell_origin(5, 32, 128) == (32, 32)      # 4 cells a row: cell 5 is row 1, column 1
    xs, ys = cell_origin(np.array([3, 4, 15]), 32, 128)
    assert xs.tolist() == [96, 0, 96] and ys.tolist() == [0, 32, 96]


def test_a_version_1_file_still_reads(tmp_path):
    doc = small_document(source="images")
    doc["version"] = 1
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(doc))
    assert read_layout(path)["version"] == 1


def test_version_2_optional_keys_are_checked():
    """Per sheet `bytes`/`blake2b` in atlas levels, per layout `tsne_display` and `tsne_image_size`."""
    doc = small_document()
    doc["atlas"]["levels"][0].update(bytes=[1234], blake2b=["0" * 32])
    doc["layouts"]["blur"].update(tsne_display=[[0.5, 0.5], [0.0, 1.0], [1.0, 0.0]], tsne_image_size=2.5)
    validate_layout(doc)
    for change, reason in [
        (lambda d: d["atlas"]["levels"][0].update(bytes=[1, 2]), "'atlas.levels\\[0\\].bytes' has 2 entries"),
        (lambda d: d["atlas"]["levels"][0].update(bytes=[-1]), "one size in bytes"),
        (lambda d: d["atlas"]["levels"][0].update(blake2b=["XYZ"]), "32-hex-digit digest"),
        (lambda d: d["layouts"]["blur"].update(tsne_display=[[0, 0]] * 2), "tsne_display: must be 3 pairs"),
        (lambda d: d["layouts"]["blur"].update(tsne_display=[[0, 0], [0, 2], [0, 0]]), "tsne_display: coordinates"),
        (lambda d: d["layouts"]["blur"].update(tsne_display=[[0, 0], [0, float("nan")], [0, 0]]), "finite"),
        (lambda d: d["layouts"]["combined"].update(tsne_image_size=0), "tsne_image_size must be a positive number"),
        (lambda d: d["layouts"]["combined"].update(tsne_image_size=True), "tsne_image_size must be a positive"),
        (lambda d: d["layouts"]["combined"].update(tsne_image_size=float("inf")), "tsne_image_size must be"),
    ]:
        with pytest.raises(LayoutFileError, match=reason):
            validate_layout(changed(doc, change))


def test_non_utf8_file_names_round_trip_through_an_ascii_file(tmp_path):
    name = os.fsdecode(b"caf\xe9/\xff.png")   # bytes that are not UTF-8, as os.listdir gives them
    doc = small_document()
    doc["images"][0]["path"] = name
    path = tmp_path / "layout.json"
    write_layout(path, doc)
    assert path.read_bytes().isascii()
    assert os.fsencode(read_layout(path)["images"][0]["path"]) == b"caf\xe9/\xff.png"
