"""Stage 5 input formatting: the paper's generation prompt, per experiment row."""
