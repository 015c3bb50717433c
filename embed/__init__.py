"""tsne-gallery's offline half: images → features → t-SNE → grid → layout JSON.

The notebook API (embed/api.py) is importable from here: `embed.extract_features`, `embed.lay_out`,
`embed.poster`, `embed.write_layout_file`, recipes (`embed.dial`, `embed.load_recipe`, ...). They load on
first use, so `python -m embed info` never imports torch.
"""

from embed.threads import apply_wait_policy

# torch and openTSNE use OpenMP, which reads its wait policy once, when loaded: choose it before either
# is imported (embed/threads.py: PASSIVE on a small or busy machine, the runtime's default otherwise).
apply_wait_policy()

__version__ = "0.3.1"

_API = {"Collection": "embed.api", "extract_features": "embed.api", "poster": "embed.api",
        "write_layout_file": "embed.api", "lay_out": "embed.core.layouts", "LayoutSet": "embed.core.layouts",
        "FeatureSet": "embed.core.featureset", "LayoutParams": "embed.options", "Recipe": "embed.core.recipe",
        "LayoutRecipe": "embed.core.recipe", "Ingredient": "embed.core.recipe", "default_recipe": "embed.core.recipe",
        "dial": "embed.core.recipe", "mix": "embed.core.recipe", "load_recipe": "embed.core.recipe", "parse_recipe": "embed.core.recipe",
        "preset_names": "embed.core.recipe"}


def __getattr__(name: str):
    """The API's names, imported when first used (PEP 562)."""
    if name not in _API:
        raise AttributeError(f"module 'embed' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_API[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
