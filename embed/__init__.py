"""tsne-gallery's offline half: images → features → t-SNE → grid → layout JSON."""

import os

# torch and openTSNE use OpenMP; its default busy-waiting threads slow both 5-20x on a machine whose
# cores are shared (measured: bench/bench_embed.py). Must be set before either library is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.3.0"
