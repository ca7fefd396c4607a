"""T5 encoder-decoder in Flax: configuration, network, loss and checkpoint import."""
