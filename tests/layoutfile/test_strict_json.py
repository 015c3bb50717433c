"""NaN and Infinity are not JSON: the layout writer refuses them (one line naming where), every reader rejects them."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from layoutfile import LayoutFileError, UserError, read_json_file, read_layout, write_layout
from layoutfile.jsonfile import strict_json

DEMO = Path(__file__).resolve().parents[2] / "assets" / "layouts" / "demo.json"


@pytest.mark.parametrize("value, where", [
    ({"params": {"blur_radii": [8.0, math.nan]}}, "params.blur_radii[1]"),
    ({"layouts": {"blur": {"metrics": {"colour_ratio": math.inf}}}}, "layouts.blur.metrics.colour_ratio"),
    ([1, [2, -math.inf]], "[1][1]"),
    (math.nan, "the document"),
])
def test_the_writer_names_the_first_value_that_is_not_finite(value, where):
    with pytest.raises(UserError, match=f"^out.json: not written: {re.escape(where)} is not a finite number"):
        strict_json(value, "out.json")


def test_a_layout_with_nan_is_never_written(tmp_path):
    doc = read_layout(DEMO)
    doc["params"]["blur_radii"] = [math.nan]
    path = tmp_path / "layout.json"
    with pytest.raises(UserError, match=r"layout.json: not written: params.blur_radii\[0\] is not a finite number"):
        write_layout(path, doc)
    assert not path.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_readers_reject_nan_and_infinity(tmp_path, constant):
    path = tmp_path / "data.json"
    path.write_text(f'{{"a": [1, {constant}]}}')
    with pytest.raises(UserError, match=rf"data.json: not a usable thing file \({constant} is not a finite number: "
                                        r"JSON has no NaN or Infinity\)$"):
        read_json_file(path, "thing")
    text = DEMO.read_text().replace('"perplexity":30.0', f'"perplexity":{constant}', 1)
    assert text != DEMO.read_text()
    (tmp_path / "layout.json").write_text(text)
    with pytest.raises(LayoutFileError, match=rf"layout.json: not a usable layout file \({constant} is not"):
        read_layout(tmp_path / "layout.json")
