"""tsne-gallery's offline half: images → features → t-SNE → grid → layout JSON."""

from embed.threads import apply_wait_policy

# torch and openTSNE use OpenMP, which reads its wait policy once, when loaded: choose it before either
# is imported (embed/threads.py: PASSIVE on a small or busy machine, the runtime's default otherwise).
apply_wait_policy()

__version__ = "0.3.0"
