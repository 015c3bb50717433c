"""tsne-gallery's offline half: images → features → t-SNE → grid → layout JSON."""

__version__ = "0.1.0"
