"""T5X checkpoint import from a tiny checkpoint written here in T5X's on-disk format.

The format: a `checkpoint` msgpack file {'version': 3, 'optimizer': {'target': ..., 'state': ...}} whose array
leaves are TensorStore specs (zarr driver, kvstore path relative to the checkpoint folder) or inline arrays.
"""

from __future__ import annotations

import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from flax import serialization, traverse_util

import tensorstore as ts

from personalize.models.t5.checkpoint_import import (  # noqa: E402
    CheckpointImportError,
    load_t5x,
    load_t5x_optimizer_state,
)
from personalize.models.t5.config import T5Config  # noqa: E402
from personalize.models.t5.network import Transformer  # noqa: E402

CONFIG = T5Config(emb_dim=16, num_heads=2, head_dim=8, mlp_dim=24, num_encoder_layers=2, num_decoder_layers=1,
                  vocab_size=40, dtype="float32", dropout_rate=0.0)
INLINE = ("encoder", "encoder_norm", "scale")
BFLOAT16 = ("decoder", "logits_dense", "kernel")


def _random_params():
    tokens = jnp.ones((1, 3), jnp.int32)
    variables = jax.eval_shape(lambda: Transformer(CONFIG).init(jax.random.PRNGKey(0), tokens, tokens,
                                                                enable_dropout=False))
    shapes = traverse_util.flatten_dict(nn.unbox(variables["params"]))
    rng = np.random.default_rng(0)
    return {key: rng.normal(size=value.shape).astype(np.float32) for key, value in shapes.items()}


def _write_t5x_checkpoint(folder, flat_params, *, version=3):
    os.makedirs(folder, exist_ok=True)
    target = {}
    for key, value in flat_params.items():
        if key == INLINE:
            target[key] = value
            continue
        if key == BFLOAT16:
            value, zarr_dtype = value.astype(ml_dtypes.bfloat16), "bfloat16"
        else:
            zarr_dtype = "<f4"
        name = "target." + ".".join(key)
        spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": name},
                "metadata": {"shape": list(value.shape), "chunks": list(value.shape), "dtype": zarr_dtype,
                             "compressor": {"id": "gzip", "level": 1}}}
        absolute = {**spec, "kvstore": {"driver": "file", "path": os.path.join(folder, name)}}
        ts.open(absolute, create=True, open=True).result().write(value).result()
        target[key] = spec
    state = {"target": traverse_util.unflatten_dict(target), "state": {"step": np.array(1000, np.int32)}}
    contents = {"version": version, "optimizer": state} if version else state
    with open(os.path.join(folder, "checkpoint"), "wb") as f:
        f.write(serialization.msgpack_serialize(contents))


@pytest.mark.parametrize("version", [3, 0])
def test_t5x_checkpoint_round_trip(tmp_path, version):
    flat = _random_params()
    folder = str(tmp_path / "checkpoint_1000")
    _write_t5x_checkpoint(folder, flat, version=version)
    loaded = traverse_util.flatten_dict(load_t5x(path=folder, config=CONFIG))
    assert loaded.keys() == flat.keys()
    for key, value in flat.items():
        expected = value.astype(ml_dtypes.bfloat16).astype(np.float32) if key == BFLOAT16 else value
        assert loaded[key].dtype == np.float32
        np.testing.assert_array_equal(loaded[key], expected)
    # The imported tree runs in the network.
    tokens = jnp.array([[3, 4, 1]], jnp.int32)
    logits = Transformer(CONFIG).apply({"params": traverse_util.unflatten_dict(loaded)}, tokens, tokens,
                                       enable_dropout=False)
    assert logits.shape == (1, 3, 40)


def test_t5x_checkpoint_of_another_shape_is_rejected_by_name(tmp_path):
    folder = str(tmp_path / "checkpoint_1")
    _write_t5x_checkpoint(folder, _random_params())
    with pytest.raises(CheckpointImportError, match="layers_0/mlp/wi_0/kernel has shape"):
        load_t5x(path=folder, config=CONFIG.replace(mlp_dim=32))
    with pytest.raises(CheckpointImportError, match="missing"):
        load_t5x(path=folder, config=CONFIG.replace(num_encoder_layers=3))


def test_t5x_checkpoint_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointImportError, match="no T5X `checkpoint` msgpack file"):
        load_t5x(path=str(tmp_path), config=CONFIG)


def _zarr(folder, name, value):
    spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": name},
            "metadata": {"shape": list(value.shape), "chunks": list(value.shape), "dtype": "<f4"}}
    absolute = {**spec, "kvstore": {"driver": "file", "path": os.path.join(folder, name)}}
    ts.open(absolute, create=True, open=True).result().write(value).result()
    return spec


def test_t5x_step_and_adafactor_statistics_are_read(tmp_path):
    """T5X keeps `state/step` and `state/param_states/<parameter path>/{v_row, v_col, v, m}` beside `target`."""
    folder = str(tmp_path / "checkpoint_1000000")
    _write_t5x_checkpoint(folder, _random_params())
    with open(os.path.join(folder, "checkpoint"), "rb") as f:
        contents = serialization.msgpack_restore(f.read())
    v_row = np.arange(6, dtype=np.float32).reshape(2, 3)
    contents["optimizer"]["state"] = {
        "step": np.array(1_000_000, np.int32),
        "param_states": {"encoder": {"layers_0": {"mlp": {"wo": {"kernel": {
            "v_row": _zarr(folder, "state.param_states.encoder.layers_0.mlp.wo.kernel.v_row", v_row),
            "v_col": np.ones((16,), np.float32), "v": np.zeros((1,), np.float32), "m": None}}}}}},
    }
    with open(os.path.join(folder, "checkpoint"), "wb") as f:
        f.write(serialization.msgpack_serialize(contents))
    state = load_t5x_optimizer_state(path=folder)
    assert state.step == 1_000_000
    assert sorted(state.param_states) == ["encoder/layers_0/mlp/wo/kernel"]
    statistics = state.param_states["encoder/layers_0/mlp/wo/kernel"]
    assert sorted(statistics) == ["v", "v_col", "v_row"]
    np.testing.assert_array_equal(statistics["v_row"], v_row)
    assert statistics["v_col"].shape == (16,)


def test_t5x_checkpoint_without_a_step_is_named(tmp_path):
    folder = str(tmp_path / "checkpoint_1")
    _write_t5x_checkpoint(folder, _random_params())
    with open(os.path.join(folder, "checkpoint"), "rb") as f:
        contents = serialization.msgpack_restore(f.read())
    contents["optimizer"]["state"] = {}
    with open(os.path.join(folder, "checkpoint"), "wb") as f:
        f.write(serialization.msgpack_serialize(contents))
    with pytest.raises(CheckpointImportError, match="no 'state/step'"):
        load_t5x_optimizer_state(path=folder)
