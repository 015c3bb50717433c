"""What a build did, and the lines a user reads at the end of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from layoutfile import printable

SKIPPED_LISTED = 20   # skipped files named in the summary; the JSON lists them all


@dataclass
class BuildSummary:
    """Counts, skipped files, seconds per stage and metrics of one `run_build`."""

    output: Path
    images: int
    seconds: dict[str, float]
    computed: int = 0                  # images whose features were computed in this run
    cached: int = 0                    # images whose features came from the cache
    skipped: list[dict] = field(default_factory=list)   # {"path", "reason"} as in the layout file
    tsne: str = ""                     # "from scratch" or "incremental, K new of N"
    metrics: dict[str, dict] = field(default_factory=dict)   # per layout
    up_to_date: bool = False           # the output was already made from the same inputs: nothing done

    @classmethod
    def nothing_to_do(cls, output: Path, images: int, seconds: dict[str, float]) -> BuildSummary:
        return cls(output, images, seconds, cached=images, up_to_date=True)


def print_summary(summary: BuildSummary) -> None:
    """What a user wants to see after a run: counts, skipped files, time per stage, where the JSON went."""
    if summary.up_to_date:
        print(f"{printable(summary.output)} is up to date ({summary.images} images, same files and options): nothing to do")
        return
    print(f"\n{summary.images} images laid out ({summary.computed} computed, {summary.cached} from cache), "
          f"{len(summary.skipped)} skipped")
    print(f"t-SNE: {summary.tsne}")
    for item in summary.skipped[:SKIPPED_LISTED]:
        print(f"  skipped {printable(item['path'])}: {printable(item['reason'])}")
    if len(summary.skipped) > SKIPPED_LISTED:
        print(f"  … and {len(summary.skipped) - SKIPPED_LISTED} more (all listed in the JSON's 'skipped')")
    total = sum(summary.seconds.values())
    print("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items()) + f"; total {total:.1f}s")
    for name, metrics in summary.metrics.items():
        print(f"{name}: " + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in metrics.items()))
    print(f"wrote {printable(summary.output)}")
