"""The model gin files build the published T5 shapes: parameter counts equal the public checkpoints'."""

from __future__ import annotations

import os

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from personalize.models.t5.network import Transformer

GIN_DIR = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "gin")

# Parameter counts of the published checkpoints (Hugging Face t5-*, google/t5-v1_1-*; T5X's are the same tensors).
PUBLISHED = {
    "t5_1_0/small.gin": 60_506_624,
    "t5_1_0/base.gin": 222_903_552,
    "t5_1_0/11B.gin": 11_307_321_344,
    "t5_1_1/small.gin": 76_961_152,
    "t5_1_1/base.gin": 247_577_856,
    "t5_1_1/large.gin": 783_150_080,
    "t5_1_1/xl.gin": 2_849_757_184,
    "t5_1_1/xxl.gin": 11_135_332_352,
}


def _model_from_gin(name: str) -> Transformer:
    gin.clear_config()
    try:
        gin.add_config_file_search_path(GIN_DIR)
        gin.parse_config_files_and_bindings([os.path.join(GIN_DIR, "models", name)], ["DROPOUT_RATE = 0.0"])
        return gin.query_parameter("%MODEL").scoped_configurable_fn()
    finally:
        gin.clear_config()


def _parameter_count(model: Transformer) -> int:
    tokens = jnp.ones((1, 1), jnp.int32)
    shapes = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), tokens, tokens, enable_dropout=False))
    return sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(nn.unbox(shapes["params"])))


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_model_gin_matches_published_parameter_count(name):
    model = _model_from_gin(name)
    assert model.config.dtype == "bfloat16"
    assert model.config.dropout_rate == 0.0
    assert _parameter_count(model) == PUBLISHED[name]


def test_tiny_gin_is_t5_1_1_shaped():
    config = _model_from_gin("t5_1_1/tiny.gin").config
    assert config.mlp_activations == ("gelu", "linear") and not config.logits_via_embedding
    assert config.emb_dim <= 64 and config.num_encoder_layers <= 2
