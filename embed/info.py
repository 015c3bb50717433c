"""`python -m embed info FILE`: what a layout file holds, in a few lines (safe to print: no control characters)."""

from __future__ import annotations

from pathlib import Path

from layoutfile import describe_recipe, printable, read_layout

MAX_VALUE_CHARS = 200   # a longer parameter or metric value is cut short


def describe_layout(path: Path) -> str:
    """A human summary of a layout file: counts, parameters, atlases and per-layout metrics."""
    doc = read_layout(path)
    grid = doc["grid"]
    lines = [
        f"{path}: {doc['format']} v{doc['version']}, made {doc.get('created', '?')} by "
        f"{doc.get('generator', {}).get('name', '?')} {doc.get('generator', {}).get('version', '')}".rstrip(),
        f"images: {len(doc['images'])}   skipped: {len(doc['skipped'])}   grid: {grid['cols']} x {grid['rows']} "
        f"({grid['cols'] * grid['rows'] - len(doc['images'])} empty cells)",
        "params: " + ", ".join(f"{k}={_short(v)}" for k, v in doc["params"].items()),
        "atlas: " + "; ".join(f"{lvl['cell_px']} px cells on {len(lvl['files'])} sheet(s) of {lvl['sheet_px']} px"
                              for lvl in doc["atlas"]["levels"]),
    ]
    for name, layout in doc["layouts"].items():
        metrics = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={_short(v)}"
                            for k, v in layout.get("metrics", {}).items())
        display = "; t-SNE state drawn at display positions" if "tsne_display" in layout else ""
        if "tsne_image_size" in layout:
            display += f"; t-SNE image side {layout['tsne_image_size']:.3g} cells"
        lines.append(f"layout {name} ({layout.get('label', name)}): {metrics or 'no metrics'}{display}")
        if layout.get("recipe") is not None:
            lines.append(f"  recipe: {describe_recipe(layout['recipe'])}")
    for item in doc["skipped"][:10]:
        lines.append(f"skipped: {item['path']}: {item['reason']}")
    if len(doc["skipped"]) > 10:
        lines.append(f"skipped: … and {len(doc['skipped']) - 10} more")
    return "\n".join(printable(line) for line in lines)


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 1] + "…"


def print_info(path: Path) -> None:
    """Print `describe_layout(path)`."""
    print(describe_layout(path))
