"""Image files and square thumbnails, shared by the decoders (embed/decode) and the build (embed/build)."""
