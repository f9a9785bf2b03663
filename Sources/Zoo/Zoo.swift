/// Placeholder so the Zoo target builds; replaced as the module grows.
