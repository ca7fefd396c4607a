"""The T5 network's parameter tree, axis names, masks, packing and numerics."""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from personalize.models.t5.config import T5_1_0_ACTIVATIONS, T5Config
from personalize.models.t5.layers import PARAM_AXIS_NAMES, relative_position_bucket
from personalize.models.t5.network import Transformer

pytestmark = pytest.mark.slow  # compiles the T5 network in several configurations (~30 s on 2 cores)

SMALL = dict(emb_dim=16, num_heads=2, head_dim=8, mlp_dim=24, num_encoder_layers=1, num_decoder_layers=1,
             vocab_size=40, dtype="float32", dropout_rate=0.0)


def _abstract_params(config: T5Config):
    tokens = jnp.ones((1, 3), jnp.int32)
    return jax.eval_shape(lambda: Transformer(config).init(jax.random.PRNGKey(0), tokens, tokens,
                                                           enable_dropout=False))["params"]


@functools.lru_cache(maxsize=None)
def _params(config: T5Config):
    tokens = jnp.ones((1, 3), jnp.int32)
    init = jax.jit(functools.partial(Transformer(config).init, enable_dropout=False))
    return nn.unbox(init(jax.random.PRNGKey(0), tokens, tokens)["params"])


@pytest.mark.parametrize("overrides", [dict(), dict(mlp_activations=T5_1_0_ACTIVATIONS, logits_via_embedding=True)])
def test_every_parameter_has_logical_axis_names(overrides):
    params = _abstract_params(T5Config(**SMALL, **overrides))
    leaves = jax.tree_util.tree_leaves_with_path(params, is_leaf=lambda x: isinstance(x, nn.LogicallyPartitioned))
    assert leaves
    for path, leaf in leaves:
        name = jax.tree_util.keystr(path)
        assert isinstance(leaf, nn.LogicallyPartitioned), f"{name} has no logical axis names"
        assert len(leaf.names) == leaf.value.ndim, f"{name}: names {leaf.names} for shape {leaf.value.shape}"
        assert set(leaf.names) <= set(PARAM_AXIS_NAMES), f"{name}: unknown axis names {leaf.names}"
        assert leaf.value.dtype == jnp.float32, f"{name} is stored as {leaf.value.dtype}"


def test_parameter_names_are_t5x_checkpoint_names():
    params = nn.unbox(_abstract_params(T5Config(**SMALL)))
    names = {"/".join(key): value.shape for key, value in traverse_util.flatten_dict(params).items()}
    attention = {f"{p}/kernel": (16, 16) for p in ("query", "key", "value", "out")}
    mlp = {"mlp/wi_0/kernel": (16, 24), "mlp/wi_1/kernel": (16, 24), "mlp/wo/kernel": (24, 16)}
    expected = {"token_embedder/embedding": (40, 16),
                "encoder/relpos_bias/rel_embedding": (2, 32),
                "encoder/encoder_norm/scale": (16,),
                "encoder/layers_0/pre_attention_layer_norm/scale": (16,),
                "encoder/layers_0/pre_mlp_layer_norm/scale": (16,),
                "decoder/relpos_bias/rel_embedding": (2, 32),
                "decoder/decoder_norm/scale": (16,),
                "decoder/logits_dense/kernel": (16, 40),
                "decoder/layers_0/pre_self_attention_layer_norm/scale": (16,),
                "decoder/layers_0/pre_cross_attention_layer_norm/scale": (16,),
                "decoder/layers_0/pre_mlp_layer_norm/scale": (16,)}
    expected.update({f"encoder/layers_0/attention/{k}": v for k, v in attention.items()})
    expected.update({f"decoder/layers_0/self_attention/{k}": v for k, v in attention.items()})
    expected.update({f"decoder/layers_0/encoder_decoder_attention/{k}": v for k, v in attention.items()})
    expected.update({f"{stack}/layers_0/{k}": v for k, v in mlp.items() for stack in ("encoder", "decoder")})
    assert names == expected


def test_t5_1_0_uses_tied_embedding_and_single_wi():
    params = nn.unbox(_abstract_params(T5Config(**SMALL, mlp_activations=("relu",), logits_via_embedding=True)))
    names = {"/".join(key) for key in traverse_util.flatten_dict(params)}
    assert "decoder/logits_dense/kernel" not in names
    assert "encoder/layers_0/mlp/wi/kernel" in names
    assert "encoder/layers_0/mlp/wi_0/kernel" not in names


def test_relative_position_buckets_exact_values():
    offsets = jnp.array([-200, -20, -1, 0, 1, 5, 20, 200])
    bidirectional = relative_position_bucket(relative_position=offsets, bidirectional=True, num_buckets=32,
                                             max_distance=128)
    causal = relative_position_bucket(relative_position=offsets, bidirectional=False, num_buckets=32,
                                      max_distance=128)
    assert bidirectional.tolist() == [15, 10, 1, 0, 17, 21, 26, 31]
    assert causal.tolist() == [31, 17, 1, 0, 0, 0, 0, 0]


def test_packed_examples_equal_separate_examples():
    config = T5Config(**SMALL)
    model, params = Transformer(config), _params(config)
    forward = jax.jit(functools.partial(model.apply, enable_dropout=False))
    first = dict(enc=[5, 6, 7, 1], dec_in=[0, 9, 8], tgt=[9, 8, 1])
    second = dict(enc=[11, 12, 1], dec_in=[0, 13, 14, 15], tgt=[13, 14, 15, 1])

    def alone(example, enc_len=8, dec_len=8):
        pad = lambda xs, n: jnp.array([xs + [0] * (n - len(xs))], jnp.int32)  # noqa: E731
        return forward({"params": params}, pad(example["enc"], enc_len), pad(example["dec_in"], dec_len),
                       pad(example["tgt"], dec_len))[0]

    packed = forward(
        {"params": params},
        jnp.array([first["enc"] + second["enc"] + [0]], jnp.int32),
        jnp.array([first["dec_in"] + second["dec_in"] + [0]], jnp.int32),
        jnp.array([first["tgt"] + second["tgt"] + [0]], jnp.int32),
        encoder_segment_ids=jnp.array([[1, 1, 1, 1, 2, 2, 2, 0]], jnp.int32),
        decoder_segment_ids=jnp.array([[1, 1, 1, 2, 2, 2, 2, 0]], jnp.int32),
        encoder_positions=jnp.array([[0, 1, 2, 3, 0, 1, 2, 0]], jnp.int32),
        decoder_positions=jnp.array([[0, 1, 2, 0, 1, 2, 3, 0]], jnp.int32))[0]
    np.testing.assert_allclose(packed[:3], alone(first)[:3], atol=1e-5)
    np.testing.assert_allclose(packed[3:7], alone(second)[:4], atol=1e-5)


def test_bfloat16_compute_keeps_float32_params_and_logits():
    config = T5Config(**{**SMALL, "dtype": "bfloat16"})
    model, params = Transformer(config), _params(config.replace(dtype="float32"))
    tokens = jnp.array([[4, 5, 1]], jnp.int32)
    logits = jax.jit(functools.partial(model.apply, enable_dropout=False))({"params": params}, tokens, tokens)
    reference_model = Transformer(config.replace(dtype="float32"))
    reference = jax.jit(functools.partial(reference_model.apply, enable_dropout=False))({"params": params}, tokens,
                                                                                        tokens)
    assert logits.dtype == jnp.float32
    assert float(jnp.max(jnp.abs(logits - reference))) < 0.1 * float(jnp.max(jnp.abs(reference)))


def test_dropout_is_active_only_when_enabled():
    config = T5Config(**{**SMALL, "dropout_rate": 0.3})
    model, params = Transformer(config), _params(config.replace(dropout_rate=0.0))
    tokens = jnp.array([[4, 5, 6, 1]], jnp.int32)
    apply = jax.jit(model.apply, static_argnames="enable_dropout")
    run = lambda seed, enable: apply({"params": params}, tokens, tokens, enable_dropout=enable,  # noqa: E731
                                     rngs={"dropout": jax.random.PRNGKey(seed)})
    np.testing.assert_array_equal(run(0, False), run(1, False))
    assert not np.allclose(run(0, True), run(1, True))


def test_config_rejects_unknown_activation():
    with pytest.raises(ValueError, match="mlp_activations"):
        T5Config(**{**SMALL, "mlp_activations": ("swish",)})
