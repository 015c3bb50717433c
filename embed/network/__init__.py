"""embed.network: feature networks: the packaged EfficientNet-Lites, torchvision models, the ONNX Runtime engine."""
