"""embed.core: the in-memory core: features and a recipe → layouts (no files)."""
