"""The sentence-transformers head: mean over real tokens, optional bias-free projections, L2 normalisation.

Shared by the MiniLM and GTR encoders so both pool identically. Pooling and normalisation run in float32
whatever the encoder's activation dtype, because the resulting cosines rank the user's past documents.
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp

from personalize.retrieval.dense.sentence_transformers_folder import DenseLayer


def mean_pool(*, hidden: jax.Array, mask: jax.Array) -> jax.Array:
    """[batch, length, embed], [batch, length] -> [batch, embed]; an all-padding row pools to zeros."""
    mask32 = mask.astype(jnp.float32)
    total = jnp.einsum("ble,bl->be", hidden.astype(jnp.float32), mask32)
    count = jnp.maximum(jnp.sum(mask32, axis=1, keepdims=True), 1e-9)
    return total / count


def project(*, pooled: jax.Array, dense_layers: Sequence[DenseLayer]) -> jax.Array:
    """Applies the Dense modules in order; [batch, in_features] -> [batch, out_features]."""
    for layer in dense_layers:
        pooled = pooled @ jnp.asarray(layer.kernel)
        if layer.bias is not None:
            pooled = pooled + jnp.asarray(layer.bias)
    return pooled


def l2_normalize(x: jax.Array) -> jax.Array:
    """Row-wise unit vectors; the 1e-12 floor matches torch.nn.functional.normalize."""
    return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
