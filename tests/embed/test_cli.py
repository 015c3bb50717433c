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
                                     "--grid", "lap", "--workers", "0", "--image-path", "batch", "--quiet",
                                     "--recipe", "original", "--stops", "3"])
    options = build_options(args)
    assert options.recipe == "original" and options.stops == 3
    assert options.output == Path("out/x.json") and options.blur == (0.0, 4.0, 16.0)
    assert options.aspect == pytest.approx(4 / 3)
    assert options.atlas_cells == (16, 64) and options.perplexity == 10.0 and options.fresh and options.quiet
    extract = options.extract_options((0.0, 4.0, 16.0))
    assert extract.thumb_size == 64 and extract.workers == 0 and extract.image_path == "batch"
    assert extract.blur_radii == (0.0, 4.0, 16.0) and not extract.progress


def test_options_written_in_code_equal_parsed_ones():
    """Lists, ints and strings from code are stored as the CLI stores them, so both give one fingerprint."""
    assert BuildOptions(images="pics", blur=[0, 8], atlas_cells=[32.0], perplexity=10) == \
        BuildOptions(images=Path("pics"), blur=(0.0, 8.0), atlas_cells=(32,), perplexity=10.0)


def test_fingerprint_changes_with_the_options_and_with_the_recipes_content():
    from embed.fingerprint import options_fingerprint
    from embed.pipeline import build_recipe

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
