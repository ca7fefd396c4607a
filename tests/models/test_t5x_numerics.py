"""Dropout and precision as in T5X's T5 (t5x/examples/t5/network.py and layers.py).

- Dropout masks are broadcast over the sequence: one mask per example and feature for the embeddings, the residual
  branches and the MLP's hidden layer, and attention dropout is shared by all queries of a head. Only the encoder's
  output dropout drops elements independently (as t5x/examples/t5/network.py has it).
- The output layer, `logits_dense` or the tied embedding's `attend`, runs in float32.
- Attention logits are computed in the activation dtype unless `float32_attention_logits` (default False, as T5X).
"""

from __future__ import annotations

import functools
import os

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from personalize.models.t5.config import T5Config
from personalize.models.t5.layers import MultiHeadAttention
from personalize.models.t5.network import Transformer

pytestmark = pytest.mark.slow  # compiles the T5 network under several numerics (~30 s on 2 cores)

SMALL = dict(emb_dim=16, num_heads=2, head_dim=8, mlp_dim=24, num_encoder_layers=1, num_decoder_layers=1,
             vocab_size=40, dtype="float32", dropout_rate=0.0)
GIN_DIR = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "gin")


@functools.lru_cache(maxsize=None)
def _params(config: T5Config):
    tokens = jnp.ones((1, 3), jnp.int32)
    init = jax.jit(functools.partial(Transformer(config).init, enable_dropout=False))
    return nn.unbox(init(jax.random.PRNGKey(0), tokens, tokens)["params"])


def _dropout_masks(config: T5Config, tokens: jax.Array) -> list[tuple[tuple[str, ...], np.ndarray]]:
    """Every dropout site of one training forward pass, in call order: (module path, mask of 0 and 1/keep)."""
    masks = []

    def record(next_fun, args, kwargs, context):
        if not isinstance(context.module, nn.Dropout) or context.method_name != "__call__":
            return next_fun(*args, **kwargs)
        inputs = args[0]
        mask = next_fun(jnp.ones_like(inputs), *args[1:], **kwargs)
        masks.append((tuple(context.module.path), np.asarray(mask)))
        return inputs * mask.astype(inputs.dtype)

    params = _params(config.replace(dropout_rate=0.0))
    with nn.intercept_methods(record):
        Transformer(config).apply({"params": params}, tokens, tokens, enable_dropout=True,
                                  rngs={"dropout": jax.random.PRNGKey(1)})
    return masks


def _varies(mask: np.ndarray, axis: int) -> bool:
    return not np.all(mask == np.take(mask, [0], axis=axis))


def test_dropout_masks_are_broadcast_over_the_sequence_as_t5x():
    config = T5Config(**{**SMALL, "dropout_rate": 0.5})
    tokens = jnp.array([[4, 5, 6, 7, 8, 9, 10, 1], [11, 12, 13, 14, 15, 16, 17, 1]], jnp.int32)
    masks = _dropout_masks(config, tokens)
    # Encoder: embedding, attention weights, 2 residuals, MLP hidden, output. Decoder: embedding, 2 attention
    # weights, 3 residuals, MLP hidden, output.
    assert len(masks) == 6 + 8
    encoder_output = max(i for i, (path, _) in enumerate(masks) if path[0] == "encoder")
    for index, (path, mask) in enumerate(masks):
        site = f"{'/'.join(path)} {mask.shape}"
        assert set(np.unique(mask).tolist()) == {0.0, 2.0}, site
        assert _varies(mask, 0), f"{site}: one mask for the whole batch"
        assert _varies(mask, -1), f"{site}: one mask for every feature / key"
        if index == encoder_output:
            assert mask.shape == (2, 8, 16) and _varies(mask, -2), f"{site}: T5X drops elements here"
        else:
            # [batch, length, features] or attention weights [batch, heads, queries, keys]: axis -2 is broadcast.
            assert not _varies(mask, -2), f"{site}: the mask changes along the sequence / queries"
    attention = [mask for _, mask in masks if mask.ndim == 4]
    assert [m.shape for m in attention] == [(2, 2, 8, 8)] * 3
    assert all(_varies(m, 1) for m in attention), "attention dropout differs between heads"


def _decoder_output_and_logits(config: T5Config, params, tokens: jax.Array):
    logits, state = Transformer(config).apply({"params": params}, tokens, tokens, enable_dropout=False,
                                              capture_intermediates=True)
    decoder_output = state["intermediates"]["decoder"]["decoder_norm"]["__call__"][0]
    return decoder_output, logits


def test_logits_dense_runs_in_float32_under_bfloat16_activations():
    config = T5Config(**{**SMALL, "dtype": "bfloat16"})
    params = _params(config.replace(dtype="float32"))
    tokens = jnp.array([[4, 5, 6, 1]], jnp.int32)
    y, logits = _decoder_output_and_logits(config, params, tokens)
    assert y.dtype == jnp.bfloat16 and logits.dtype == jnp.float32
    expected = np.asarray(y, np.float32) @ np.asarray(params["decoder"]["logits_dense"]["kernel"], np.float32)
    np.testing.assert_allclose(np.asarray(logits), expected, rtol=1e-5, atol=1e-5)


def test_tied_embedding_attend_runs_in_float32_under_bfloat16_activations():
    config = T5Config(**{**SMALL, "dtype": "bfloat16", "mlp_activations": ("relu",), "logits_via_embedding": True})
    params = _params(config.replace(dtype="float32"))
    tokens = jnp.array([[4, 5, 6, 1]], jnp.int32)
    y, logits = _decoder_output_and_logits(config, params, tokens)
    embedding = np.asarray(params["token_embedder"]["embedding"], np.float32)
    expected = np.asarray(y, np.float32) @ embedding.T / np.sqrt(np.float32(config.emb_dim))
    np.testing.assert_allclose(np.asarray(logits), expected, rtol=1e-5, atol=1e-5)


def _attend_two_keys(config: T5Config) -> float:
    """Attention of one query to two keys whose logits are 256 and 257; returns the weight of the second key.

    bfloat16 holds 256 and 258 but not 257 (rounded to 256), so bfloat16 logits weigh both keys 0.5, float32
    logits weigh the second sigmoid(1) = 0.731.
    """
    identity = {"kernel": jnp.eye(4, dtype=jnp.float32)}
    params = {name: identity for name in ("query", "key", "value", "out")}
    query = jnp.array([[[16.0, 1.0, 0.0, 0.0]]])
    keys = jnp.array([[[16.0, 0.0, 0.0, 0.0], [16.0, 1.0, 0.0, 0.0]]])
    out = MultiHeadAttention(config).apply({"params": params}, query, keys, jnp.zeros((1, 1, 1, 2)),
                                           enable_dropout=False)
    # out = w0 * key0 + w1 * key1 = [16, w1, 0, 0]
    return float(out[0, 0, 1])


def test_attention_logits_follow_the_activation_dtype_unless_float32_attention_logits():
    shape = dict(emb_dim=4, num_heads=1, head_dim=4, mlp_dim=4, num_encoder_layers=1, num_decoder_layers=1,
                 dropout_rate=0.0, dtype="bfloat16")
    assert _attend_two_keys(T5Config(**shape)) == 0.5
    assert T5Config(**shape).float32_attention_logits is False
    assert _attend_two_keys(T5Config(**shape, float32_attention_logits=True)) == pytest.approx(0.731, abs=4e-3)
    # In float32 activations both settings compute float32 logits.
    assert _attend_two_keys(T5Config(**{**shape, "dtype": "float32"})) == pytest.approx(0.7311, abs=1e-4)


@pytest.mark.parametrize("name", ["t5_1_0/base.gin", "t5_1_1/base.gin", "t5_1_1/xxl.gin"])
def test_model_gins_default_to_t5x_attention_logits_and_can_switch(name):
    def config(bindings):
        gin.clear_config()
        try:
            gin.add_config_file_search_path(GIN_DIR)
            gin.parse_config_files_and_bindings([os.path.join(GIN_DIR, "models", name)],
                                                ["DROPOUT_RATE = 0.0", *bindings])
            return gin.query_parameter("%MODEL_CONFIG").scoped_configurable_fn()
        finally:
            gin.clear_config()

    assert config([]).float32_attention_logits is False
    assert config(["FLOAT32_ATTENTION_LOGITS = True"]).float32_attention_logits is True
    assert config(["config.T5Config.float32_attention_logits = True"]).float32_attention_logits is True
