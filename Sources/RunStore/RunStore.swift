/// Placeholder so the RunStore target builds; replaced as the module grows.
