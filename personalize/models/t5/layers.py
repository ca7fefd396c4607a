"""The building blocks of T5: RMS norm, projections, relative position biases, attention and the MLP.

Numerics, as T5X's T5 (t5x/examples/t5): parameters are float32 and are cast to the compute dtype at use; norms run
in float32; attention logits and softmax run in the compute dtype unless `float32_attention_logits`; the output layer
(`logits_dense` or the tied embedding's `attend`) runs in float32.
Dropout, as T5X: masks are broadcast over the sequence axis (one mask per example and feature) and attention dropout
is shared by all queries of a head.
Every parameter is created through `nn.with_logical_partitioning`, so each carries logical axis names that the
partitioning rules map onto the ('data', 'model') mesh.
"""

from __future__ import annotations

import math
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from personalize.models.t5.config import T5Config

# Additive attention bias for masked-out keys: large but finite, so that fully masked rows give a uniform softmax
# instead of NaN.
MASKED_BIAS = -1e10

Initializer = Callable[..., jax.Array]

# The logical axis names T5 parameters may carry; the partitioning rule table must cover every one of them.
PARAM_AXIS_NAMES = ("embed", "mlp", "heads", "kv", "joined_kv", "vocab", "relpos_buckets")


def _kernel_init(scale: float = 1.0) -> Initializer:
    return nn.initializers.variance_scaling(scale, "fan_in", "truncated_normal")


def _activation(name: str) -> Callable[[jax.Array], jax.Array]:
    if name == "relu":
        return jax.nn.relu
    if name == "gelu":
        # The tanh approximation, as in T5 1.1 and Flan-T5 ("gelu_new" in Hugging Face).
        return lambda x: jax.nn.gelu(x, approximate=True)
    if name == "linear":
        return lambda x: x
    raise ValueError(f"unknown MLP activation {name!r}")


class RmsNorm(nn.Module):
    """T5's layer norm: scale by the root mean square, no mean subtraction and no bias; computed in float32."""

    epsilon: float
    dtype: jnp.dtype

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        scale = self.param("scale", nn.with_logical_partitioning(nn.initializers.ones, ("embed",)),
                           (x.shape[-1],), jnp.float32)
        x = x.astype(jnp.float32)
        variance = jnp.mean(jnp.square(x), axis=-1, keepdims=True)
        y = x * jax.lax.rsqrt(variance + self.epsilon) * scale
        return y.astype(self.dtype)


class Dense(nn.Module):
    """A bias-free projection of the last axis with a 2-D kernel [in, out], as T5X checkpoints store it."""

    features: int
    kernel_axes: tuple[str, str]
    dtype: jnp.dtype
    kernel_init: Initializer = _kernel_init()

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param("kernel", nn.with_logical_partitioning(self.kernel_init, self.kernel_axes),
                            (x.shape[-1], self.features), jnp.float32)
        return jnp.dot(x.astype(self.dtype), kernel.astype(self.dtype), preferred_element_type=self.dtype)


class Embed(nn.Module):
    """The shared token embedding [vocab, embed]; `attend` reuses it as the output layer in T5 1.0."""

    num_embeddings: int
    features: int
    dtype: jnp.dtype

    def setup(self):
        self.embedding = self.param(
            "embedding", nn.with_logical_partitioning(nn.initializers.normal(stddev=1.0), ("vocab", "embed")),
            (self.num_embeddings, self.features), jnp.float32)

    def __call__(self, ids: jax.Array) -> jax.Array:
        # [batch, length] -> [batch, length, embed]
        return jnp.take(self.embedding, ids, axis=0).astype(self.dtype)

    def attend(self, x: jax.Array) -> jax.Array:
        # [batch, length, embed] -> [batch, length, vocab] with the float32 embedding, as T5X (training stability).
        return jnp.dot(x.astype(jnp.float32), self.embedding.T)


def relative_position_bucket(*, relative_position: jax.Array, bidirectional: bool, num_buckets: int,
                             max_distance: int) -> jax.Array:
    """T5's bucketing of key-minus-query offsets: exact for small offsets, logarithmic up to max_distance.

    In the bidirectional case half of the buckets hold keys after the query; in the causal case only offsets
    towards the past are distinguished (future keys are masked anyway).
    """
    buckets = jnp.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).astype(relative_position.dtype) * num_buckets
        distance = jnp.abs(relative_position)
    else:
        distance = jnp.maximum(-relative_position, 0)
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    # Offsets past max_exact share buckets spaced logarithmically; max(distance, 1) keeps log() finite where the
    # small branch is taken anyway.
    log_ratio = jnp.log(jnp.maximum(distance, 1).astype(jnp.float32) / max_exact) / math.log(max_distance / max_exact)
    large = max_exact + (log_ratio * (num_buckets - max_exact)).astype(relative_position.dtype)
    large = jnp.minimum(large, num_buckets - 1)
    return buckets + jnp.where(is_small, distance, large)


class RelativePositionBiases(nn.Module):
    """One learned scalar per (head, bucket), shared by all layers of a stack and added to attention logits.

    The biases come out in `dtype` (the compute dtype), as T5X computes them.
    """

    num_buckets: int
    max_distance: int
    num_heads: int
    dtype: jnp.dtype

    @nn.compact
    def __call__(self, query_positions: jax.Array, key_positions: jax.Array, *, bidirectional: bool) -> jax.Array:
        # query_positions [batch or 1, q], key_positions [batch or 1, k] -> bias [batch or 1, heads, q, k]
        rel_embedding = self.param(
            "rel_embedding",
            nn.with_logical_partitioning(nn.initializers.variance_scaling(1.0, "fan_avg", "uniform"),
                                         ("heads", "relpos_buckets")),
            (self.num_heads, self.num_buckets), jnp.float32)
        relative_position = key_positions[:, None, :] - query_positions[:, :, None]
        buckets = relative_position_bucket(relative_position=relative_position.astype(jnp.int32),
                                           bidirectional=bidirectional, num_buckets=self.num_buckets,
                                           max_distance=self.max_distance)
        # [heads, buckets] gathered at [batch, q, k] -> [heads, batch, q, k] -> [batch, heads, q, k]. Gathering
        # with heads leading keeps q and k the minor dimensions: with heads last (a few per device when the model
        # axis splits them) TPU layouts pad that dimension to 128 lanes.
        return jnp.moveaxis(jnp.take(rel_embedding.astype(self.dtype), buckets, axis=1), 0, 1)


def mask_to_bias(mask: jax.Array) -> jax.Array:
    """A boolean attention mask [batch, 1, q, k] as an additive float32 bias."""
    return jnp.where(mask, 0.0, MASKED_BIAS).astype(jnp.float32)


class MultiHeadAttention(nn.Module):
    """Dot-product attention without the 1/sqrt(head_dim) factor: T5 folds that factor into the query init.

    With decode=True the module keeps a 'cache' collection, created by the first (prefill) call:
    - cache_mode 'append' (decoder self-attention): keys and values of length max_decode_length; every later call
      brings one position and writes it at `decode_index`.
    - cache_mode 'static' (attention over the encoder): the projected encoder keys and values, computed once at
      prefill and reused at every step.
    """

    config: T5Config
    cache_mode: str = "append"

    @nn.compact
    def __call__(self, inputs_q: jax.Array, inputs_kv: jax.Array, bias: jax.Array, *, enable_dropout: bool,
                 decode: bool = False, decode_index: jax.Array | None = None,
                 max_decode_length: int | None = None) -> jax.Array:
        cfg = self.config
        dtype = cfg.compute_dtype
        inner = cfg.num_heads * cfg.head_dim
        projection = dict(features=inner, kernel_axes=("embed", "joined_kv"), dtype=dtype)
        query_init = _kernel_init(1.0 / cfg.head_dim)  # variance 1/(fan_in * head_dim): T5's folded scaling

        def split_heads(x: jax.Array) -> jax.Array:
            # [batch, length, heads * kv] -> [batch, length, heads, kv]
            x = x.reshape(x.shape[:-1] + (cfg.num_heads, cfg.head_dim))
            return nn.with_logical_constraint(x, ("batch", "length", "heads", "kv"))

        def project_kv() -> tuple[jax.Array, jax.Array]:
            return (split_heads(Dense(**projection, name="key")(inputs_kv)),
                    split_heads(Dense(**projection, name="value")(inputs_kv)))

        # [batch, length, embed] -> [batch, length, heads, kv]
        query = split_heads(Dense(**projection, kernel_init=query_init, name="query")(inputs_q))
        if not decode:
            key, value = project_kv()
        elif self.cache_mode == "static":
            key, value = self._static_cache(project_kv)
        elif self.cache_mode == "append":
            key, value = self._append_cache(*project_kv(), decode_index=decode_index,
                                            max_decode_length=max_decode_length)
        else:
            raise ValueError(f"unknown cache_mode {self.cache_mode!r} (expected 'append' or 'static')")

        # [batch, q, heads, kv] x [batch, k, heads, kv] -> [batch, heads, q, k], in the compute dtype as T5X unless
        # float32_attention_logits.
        logits_dtype = jnp.float32 if cfg.float32_attention_logits else dtype
        logits = jnp.einsum("bqhd,bkhd->bhqk", query.astype(logits_dtype), key.astype(logits_dtype))
        weights = jax.nn.softmax(logits + bias.astype(logits_dtype), axis=-1).astype(dtype)
        # [batch, heads, q, k]: one dropout mask per key, shared by all queries (axis -2).
        weights = dropout(weights, rate=cfg.dropout_rate, enable=enable_dropout)
        # [batch, heads, q, k] x [batch, k, heads, kv] -> [batch, q, heads, kv]
        context = jnp.einsum("bhqk,bkhd->bqhd", weights, value)
        context = nn.with_logical_constraint(context, ("batch", "length", "heads", "kv"))
        # [batch, q, heads, kv] -> [batch, q, embed]
        context = context.reshape(context.shape[:2] + (inner,))
        out = Dense(features=cfg.emb_dim, kernel_axes=("joined_kv", "embed"), dtype=dtype, name="out")(context)
        return nn.with_logical_constraint(out, ("batch", "length", "embed"))

    def _static_cache(self, project_kv: Callable[[], tuple[jax.Array, jax.Array]]) -> tuple[jax.Array, jax.Array]:
        """Projects the encoder output at prefill and stores it; later calls read it back."""
        if self.has_variable("cache", "cached_key"):
            return self.get_variable("cache", "cached_key"), self.get_variable("cache", "cached_value")
        key, value = project_kv()
        self.put_variable("cache", "cached_key", key)
        self.put_variable("cache", "cached_value", value)
        return key, value

    def _append_cache(self, key: jax.Array, value: jax.Array, *, decode_index: jax.Array | None,
                      max_decode_length: int | None) -> tuple[jax.Array, jax.Array]:
        """Creates an empty cache at prefill (and attends to the prefill input itself); afterwards writes one
        position at decode_index and returns the whole cache."""
        initialized = self.has_variable("cache", "cached_key")
        batch, length, heads, head_dim = key.shape
        cache_shape = (batch, max_decode_length or length, heads, head_dim)
        cached_key = self.variable("cache", "cached_key", jnp.zeros, cache_shape, key.dtype)
        cached_value = self.variable("cache", "cached_value", jnp.zeros, cache_shape, value.dtype)
        if not initialized:
            return key, value
        if length != 1:
            raise ValueError(f"decode=True takes one decoder position per call, got length {length}")
        start = (0, decode_index, 0, 0)
        cached_key.value = jax.lax.dynamic_update_slice(cached_key.value, key.astype(cached_key.value.dtype), start)
        cached_value.value = jax.lax.dynamic_update_slice(cached_value.value, value.astype(cached_value.value.dtype),
                                                          start)
        return cached_key.value, cached_value.value


class MlpBlock(nn.Module):
    """The position-wise feed-forward block: one projection per activation, multiplied together, then `wo`.

    One activation names the input projection `wi` (T5 1.0, ReLU); several name them `wi_0`, `wi_1`, ... (T5 1.1
    gated-GELU), matching T5X checkpoints.
    """

    config: T5Config

    @nn.compact
    def __call__(self, x: jax.Array, *, enable_dropout: bool) -> jax.Array:
        cfg = self.config
        dtype = cfg.compute_dtype
        activations = cfg.mlp_activations
        hidden = None
        # [batch, length, embed] -> [batch, length, mlp]
        for index, name in enumerate(activations):
            dense_name = "wi" if len(activations) == 1 else f"wi_{index}"
            h = _activation(name)(Dense(features=cfg.mlp_dim, kernel_axes=("embed", "mlp"), dtype=dtype,
                                        name=dense_name)(x))
            hidden = h if hidden is None else hidden * h
        hidden = nn.with_logical_constraint(hidden, ("batch", "length", "mlp"))
        hidden = dropout(hidden, rate=cfg.dropout_rate, enable=enable_dropout)
        # [batch, length, mlp] -> [batch, length, embed]
        out = Dense(features=cfg.emb_dim, kernel_axes=("mlp", "embed"), dtype=dtype, name="wo")(hidden)
        return nn.with_logical_constraint(out, ("batch", "length", "embed"))


def dropout(x: jax.Array, *, rate: float, enable: bool, broadcast_dims: tuple[int, ...] = (-2,)) -> jax.Array:
    """Dropout inside a compact module; a no-op when disabled or at rate 0 (so no 'dropout' rng is needed).

    By default the mask is broadcast over axis -2, the sequence of [batch, length, features] (or the queries of
    attention weights [batch, heads, q, k]), as T5X's `broadcast_dims=(-2,)`: a dropped feature is dropped at every
    position of the example.
    """
    if not enable or rate == 0.0:
        return x
    return nn.Dropout(rate=rate, broadcast_dims=broadcast_dims, deterministic=False)(x)


def arange_positions(length: int) -> jax.Array:
    """Positions 0..length-1 as a [1, length] array, for inputs that are not packed."""
    return jnp.arange(length, dtype=jnp.int32)[None, :]
