"""Models: the offline nano base, real target shapes, adapter metadata, export and quantization."""
