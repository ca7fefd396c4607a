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


def mean_pool_texts(*, hidden: jax.Array, text_ids: jax.Array, texts_per_row: int) -> jax.Array:
    """[rows, length, embed], [rows, length] (texts numbered 1, 2, ... within each row, 0 on padding)
    -> [rows, texts_per_row, embed]: the mean over each packed text's tokens; an empty slot pools to zeros."""
    # [rows, texts_per_row, length]: 1 where the token belongs to the slot's text.
    member = (text_ids[:, None, :] == jnp.arange(1, texts_per_row + 1)[None, :, None]).astype(jnp.float32)
    total = jnp.einsum("rle,rsl->rse", hidden.astype(jnp.float32), member)
    count = jnp.maximum(jnp.sum(member, axis=2)[..., None], 1e-9)
    return total / count


def project(*, pooled: jax.Array, dense_layers: Sequence[DenseLayer]) -> jax.Array:
    """Applies the Dense modules in order; [..., in_features] -> [..., out_features]."""
    for layer in dense_layers:
        pooled = pooled @ jnp.asarray(layer.kernel)
        if layer.bias is not None:
            pooled = pooled + jnp.asarray(layer.bias)
    return pooled


def l2_normalize(x: jax.Array) -> jax.Array:
    """Row-wise unit vectors; the 1e-12 floor matches torch.nn.functional.normalize."""
    return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
