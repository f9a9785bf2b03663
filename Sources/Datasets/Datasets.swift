/// Placeholder so the Datasets target builds; replaced as the module grows.
