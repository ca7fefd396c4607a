"""Looking at a task or mixture before training: rendered examples and token-length distributions."""
