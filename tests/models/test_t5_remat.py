"""T5Config.remat_policy: the same numbers and parameters as without rematerialisation, fewer saved activations."""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from personalize.decoding.generate import generate
from personalize.models.t5.config import REMAT_POLICIES, T5Config
from personalize.models.t5.loss import cross_entropy_loss
from personalize.models.t5.network import Transformer

pytestmark = pytest.mark.slow  # compiles the T5 network under each policy and dtype (~35 s on 2 cores)

# Two layers per stack, so that a layer's checkpoint sits between two others; dropout on, so that the dropout
# streams inside the checkpoint are checked too.
TINY = dict(emb_dim=16, num_heads=4, head_dim=4, mlp_dim=32, num_encoder_layers=2, num_decoder_layers=2,
            vocab_size=64, dtype="float32", dropout_rate=0.1)
POLICIES = sorted(REMAT_POLICIES)


def _model(policy: str, **overrides) -> Transformer:
    return Transformer(T5Config(**{**TINY, **overrides}, remat_policy=policy))


def _init(model: Transformer):
    tokens = jnp.ones((1, 4), jnp.int32)
    return model.init(jax.random.PRNGKey(0), tokens, tokens, enable_dropout=False)["params"]


def _batch():
    rng = np.random.default_rng(0)
    inputs = rng.integers(2, TINY["vocab_size"], size=(3, 12)).astype(np.int32)
    inputs[0, 9:] = 0  # padding
    targets = rng.integers(2, TINY["vocab_size"], size=(3, 6)).astype(np.int32)
    targets[1, 4:] = 0
    decoder_inputs = np.concatenate([np.zeros((3, 1), np.int32), targets[:, :-1]], axis=1)
    return jnp.asarray(inputs), jnp.asarray(decoder_inputs), jnp.asarray(targets)


def _loss_and_grads(policy: str, *, dtype: str):
    model = _model(policy, dtype=dtype)
    params = nn.unbox(_init(_model("none", dtype=dtype)))
    inputs, decoder_inputs, targets = _batch()

    def loss(p):
        logits = model.apply({"params": p}, inputs, decoder_inputs, targets, enable_dropout=True,
                             rngs={"dropout": jax.random.PRNGKey(7)})
        return cross_entropy_loss(logits=logits, targets=targets).loss

    return jax.jit(jax.value_and_grad(loss))(params)


@functools.lru_cache(maxsize=None)
def _reference(dtype: str):
    return _loss_and_grads("none", dtype=dtype)


@pytest.mark.parametrize("policy", ["minimal", "full"])
@pytest.mark.parametrize("dtype, gradient_tolerance", [("float32", 1e-5), ("bfloat16", 5e-2)])
def test_loss_and_gradients_equal_those_without_remat(policy, dtype, gradient_tolerance):
    """In float32 the gradients agree to rounding; in bfloat16 XLA fuses the recomputed forward pass differently,
    so a gradient may round differently by a few bfloat16 steps (measured: up to 2.7% of the largest entry)."""
    loss, grads = _loss_and_grads(policy, dtype=dtype)
    reference_loss, reference_grads = _reference(dtype)
    np.testing.assert_allclose(loss, reference_loss, rtol=1e-6)
    assert jax.tree_util.tree_structure(grads) == jax.tree_util.tree_structure(reference_grads)
    for (path, g), r in zip(jax.tree_util.tree_leaves_with_path(grads), jax.tree_util.tree_leaves(reference_grads)):
        np.testing.assert_allclose(g, r, rtol=0, atol=gradient_tolerance * float(np.max(np.abs(r))),
                                   err_msg=jax.tree_util.keystr(path))


@pytest.mark.parametrize("policy", POLICIES)
def test_parameter_paths_and_logical_axis_names_are_unchanged(policy):
    def described(params):
        leaves = jax.tree_util.tree_leaves_with_path(params, is_leaf=lambda x: isinstance(x, nn.LogicallyPartitioned))
        return {jax.tree_util.keystr(path): (leaf.value.shape, leaf.names) for path, leaf in leaves}

    shapes = described(jax.eval_shape(lambda: _init(_model(policy))))
    assert shapes == described(jax.eval_shape(lambda: _init(_model("none"))))
    assert "['encoder']['layers_1']['attention']['query']['kernel']" in shapes


def test_remat_keeps_fewer_activations_for_the_backward_pass():
    """The residuals of jax.vjp (what the forward pass hands to the backward pass) shrink with each policy."""
    inputs = jax.ShapeDtypeStruct((2, 32), jnp.int32)
    targets = jax.ShapeDtypeStruct((2, 8), jnp.int32)

    def residual_bytes(policy):
        model = _model(policy, dropout_rate=0.0, num_encoder_layers=3)
        params = jax.eval_shape(lambda: nn.unbox(_init(model)))

        def loss(p, i, t):
            return cross_entropy_loss(logits=model.apply({"params": p}, i, t, t, enable_dropout=False),
                                      targets=t).loss

        backward = jax.eval_shape(lambda p, i, t: jax.vjp(lambda q: loss(q, i, t), p)[1], params, inputs, targets)
        return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree_util.tree_leaves(backward))

    none, minimal, full = (residual_bytes(policy) for policy in ("none", "minimal", "full"))
    assert none > minimal > full


def test_decoding_is_unchanged():
    params = nn.unbox(_init(_model("none", dropout_rate=0.0)))
    inputs, _, _ = _batch()
    decoded = {policy: generate(model=_model(policy, dropout_rate=0.0), params=params, encoder_input_tokens=inputs,
                                max_decode_length=5, method="beam", num_beams=2)
               for policy in POLICIES}
    for policy in POLICIES:
        np.testing.assert_array_equal(decoded[policy].sequences, decoded["none"].sequences)
        np.testing.assert_allclose(decoded[policy].scores, decoded["none"].scores, rtol=1e-6)


def test_an_unknown_policy_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match=r"remat_policy must be one of \('none', 'minimal', 'full'\), got 'dots'"):
        T5Config(**TINY, remat_policy="dots")


def test_artifact_keys_leave_the_policy_out():
    """The experiment keys trained models by T5Config.function_fields(): changing the policy reuses them, and the
    keys written before the field existed are unchanged."""
    fields = T5Config(**TINY, remat_policy="full").function_fields()
    assert fields == T5Config(**TINY).function_fields()
    assert "remat_policy" not in fields and fields["num_heads"] == TINY["num_heads"]
