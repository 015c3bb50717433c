"""embed.build: the build layer: a folder of images → cached features → a layout file with atlases."""
