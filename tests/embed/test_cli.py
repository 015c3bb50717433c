"""The command line: options map onto BuildOptions, and commands that need no network never import torch."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from embed.cli import build_options, make_parser
from embed.options import BuildOptions

DEMO = Path(__file__).resolve().parents[2] / "assets" / "layouts" / "demo.json"


def imported_modules(*argv: str) -> set[str]:
    """Every module `python -m embed ARGV` imports (from -X importtime); fails unless it exits 0."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "embed", *argv], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("argv", [("info", str(DEMO)), ("build", "--help"), ("poster", "--help")])
def test_commands_that_need_no_network_do_not_import_torch(argv):
    modules = imported_modules(*argv)
    assert "embed.cli" in modules
    assert not {m for m in modules if m.split(".")[0] in ("torch", "torchvision")}


def test_parsed_defaults_are_the_build_options_defaults():
    args = make_parser().parse_args(["build", "pics"])
    assert build_options(args) == BuildOptions(images=Path("pics"))


def test_parsed_options_become_typed_build_options():
    args = make_parser().parse_args(["build", "pics", "-o", "out/x.json", "--blur", "0,4,16",
                                     "--aspect", "4:3", "--atlas-cells", "16,64", "--perplexity", "10", "--fresh",
                                     "--grid", "lap", "--workers", "0", "--image-path", "batch", "--engine", "torch",
                                     "--quiet", "--recipe", "original", "--stops", "3"])
    options = build_options(args)
    assert options.recipe == "original" and options.stops == 3
    assert options.output == Path("out/x.json") and options.blur == (0.0, 4.0, 16.0)
    assert options.aspect == pytest.approx(4 / 3)
    assert options.atlas_cells == (16, 64) and options.perplexity == 10.0 and options.fresh and options.quiet
    extract = options.extract_options((0.0, 4.0, 16.0))
    assert extract.thumb_size == 64 and extract.workers == 0 and extract.image_path == "batch"
    assert extract.blur_radii == (0.0, 4.0, 16.0) and not extract.progress and extract.engine == "torch"


def test_options_written_in_code_equal_parsed_ones():
    """Lists, ints and strings from code are stored as the CLI stores them, so both give one fingerprint."""
    assert BuildOptions(images="pics", blur=[0, 8], atlas_cells=[32.0], perplexity=10) == \
        BuildOptions(images=Path("pics"), blur=(0.0, 8.0), atlas_cells=(32,), perplexity=10.0)


def test_fingerprint_changes_with_the_options_and_with_the_recipes_content():
    from embed.build.fingerprint import options_fingerprint
    from embed.build.pipeline import build_recipe

    options = BuildOptions(images="pics")
    recipe = build_recipe(options)
    first = options_fingerprint(options, "tag", recipe)
    assert options_fingerprint(options, "tag", build_recipe(options)) == first
    assert options_fingerprint(dataclasses.replace(options, perplexity=12), "tag", recipe) != first
    assert options_fingerprint(options, "tag", build_recipe(dataclasses.replace(options, blur=(4.0,)))) != first
    combined = recipe.layouts[1]
    heavier = dataclasses.replace(combined, ingredients=(dataclasses.replace(combined.ingredients[0], weight=2.0),
                                                         *combined.ingredients[1:]))
    assert options_fingerprint(options, "tag", dataclasses.replace(recipe, layouts=(recipe.layouts[0], heavier))) \
        != first


@pytest.mark.parametrize("option, value, expected", [
    ("--perplexity", "-5", "expected a finite number > 0, got '-5'"),
    ("--perplexity", "nan", "(not finite)"),
    ("--perplexity", "inf", "(not finite)"),
    ("--perplexity", "0", "expected a finite number > 0"),
    ("--seed", "-1", "expected a whole number >= 0 and <= 4294967295"),
    ("--seed", str(10**23), "expected a whole number >= 0 and <= 4294967295"),
    ("--seed", "1.5", "expected a whole number"),
    ("--pca-dims", "0", "expected a whole number >= 2"),
    ("--pca-dims", "1", "expected a whole number >= 2"),
    ("--blur", "nan", "expected comma-separated finite numbers >= 0"),
    ("--blur", "8,-1", "expected comma-separated finite numbers >= 0"),
    ("--blur", "inf", "(not finite)"),
    ("--batch-size", "0", "expected a whole number >= 1"),
    ("--workers", "-1", "expected a whole number >= 0"),
    ("--atlas-cells", "0,32", "expected comma-separated whole numbers 1 to 1024"),
    ("--atlas-cells", "32,2048", "expected comma-separated whole numbers 1 to 1024"),
    ("--atlas-cells", "1.5", "expected comma-separated whole numbers 1 to 1024"),
    ("--aspect", "-1:2", "expected a positive aspect ratio"),
    ("--aspect=-1:2", None, "expected a positive aspect ratio"),
    ("--aspect", "1:0", "expected a positive aspect ratio"),
    ("--aspect", "inf", "expected a positive aspect ratio"),
    ("--aspect", "nan:1", "expected a positive aspect ratio"),
    ("--stops", "1", "expected a whole number >= 2 and <= 16"),
])
def test_every_numeric_option_is_range_and_finiteness_checked(tmp_path, capsys, option, value, expected):
    from embed.cli import main

    argv = [str(tmp_path), "-o", str(tmp_path / "out.json"), option] + ([value] if value is not None else [])
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and not (tmp_path / "out.json").exists()
    name = option.split("=")[0]
    assert f"error: argument {name}: " in err and expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_in_range_values_are_taken_including_the_limits():
    from embed.cli import join_values

    args = make_parser().parse_args(join_values(["build", "pics", "--seed", str(2**32 - 1), "--pca-dims", "2",
                                                 "--blur", "0", "--aspect", "1e-3:1", "--atlas-cells", "1,1024",
                                                 "--perplexity", "1e9", "--workers", "0", "--batch-size", "1"]))
    options = build_options(args)
    assert options.seed == 2**32 - 1 and options.pca_dims == 2 and options.blur == (0.0,)
    assert options.aspect == pytest.approx(1e-3) and options.atlas_cells == (1, 1024)
    assert options.perplexity == 1e9   # capped to (N - 1) / 3 when the layout is made (embed/core/reduce.py)
