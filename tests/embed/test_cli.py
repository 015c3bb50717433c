"""The command line: options map onto BuildOptions, and commands that need no network never import torch."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from embed.cli import build_options, make_parser
from embed.options import RECIPE, BuildOptions

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
                                     "--quiet"])
    options = build_options(args)
    assert options.output == Path("out/x.json") and options.blur == (0.0, 4.0, 16.0)
    assert options.aspect == pytest.approx(4 / 3)
    assert options.atlas_cells == (16, 64) and options.perplexity == 10.0 and options.fresh and options.quiet
    assert options.extract_options().thumb_size == 64 and options.extract_options().workers == 0
    assert options.extract_options().image_path == "batch" and options.extract_options().engine == "torch"
    assert options.extract_options().blur_radii == (0.0, 4.0, 16.0) and not options.extract_options().progress


def test_options_written_in_code_equal_parsed_ones():
    """Lists, ints and strings from code are stored as the CLI stores them, so both give one fingerprint."""
    assert BuildOptions(images="pics", blur=[0, 8], atlas_cells=[32.0], perplexity=10) == \
        BuildOptions(images=Path("pics"), blur=(0.0, 8.0), atlas_cells=(32,), perplexity=10.0)


def test_fingerprint_changes_with_the_options_and_with_the_layout_recipe(monkeypatch):
    import embed.fingerprint

    options = BuildOptions(images="pics")
    first = embed.fingerprint.options_fingerprint(options, "tag")
    assert embed.fingerprint.options_fingerprint(options, "tag") == first
    assert embed.fingerprint.options_fingerprint(dataclasses.replace(options, blur=(4.0,)), "tag") != first
    monkeypatch.setattr(embed.fingerprint, "RECIPE", dataclasses.replace(RECIPE, combined_colour_weight=0.25))
    assert embed.fingerprint.options_fingerprint(options, "tag") != first
