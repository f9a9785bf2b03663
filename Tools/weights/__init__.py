"""Weight-file converters: PyTorch .pth state dicts <-> rkan-repro HDF5."""
