"""Image categories for the category metric: sub-folder names, or a tab-separated table."""

import pytest

from embed.build.labels import ROOT_LABEL, folder_labels, table_labels
from layoutfile import UserError


def test_labels_are_the_top_level_sub_folders():
    rels = ["animals/cat.png", "animals/wild/lion.jpg", "food/apple.png", "loose.png"]
    assert folder_labels(rels) == ["animals", "animals", "food", ROOT_LABEL]


def test_no_labels_without_at_least_two_sub_folders():
    assert folder_labels(["a.png", "b.png"]) is None
    assert folder_labels(["only/a.png", "only/b.png", "c.png"]) is None


def test_table_labels_by_path_and_category_column(tmp_path):
    table = tmp_path / "labels.tsv"
    table.write_text("path\tsub\tcategory\nx/a.png\tp\tPeople\ny/b.png\tq\tFood\n", encoding="utf-8")
    assert table_labels(table, ["y/b.png", "x/a.png"]) == ["Food", "People"]
    with pytest.raises(UserError, match="no label for z/c.png"):
        table_labels(table, ["x/a.png", "z/c.png"])
    with pytest.raises(UserError, match="cannot read labels"):
        table_labels(tmp_path / "missing.tsv", ["x/a.png"])
