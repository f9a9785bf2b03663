/// Placeholder so the Harness target builds; replaced as the module grows.
