"""A model-free check of the ranking stage: how much of the real document each context already contains."""
