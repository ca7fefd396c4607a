"""Dense retrieval encoders (stage 1): MiniLM and GTR in JAX, a batched encoding service and an embedding cache.

Import what you use from the submodules (`minilm.load_minilm`, `gtr.load_gtr`, `encode.DenseEncoder`,
`cache.CachedEncoder`); importing this package loads nothing.
"""
