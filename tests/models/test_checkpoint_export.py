"""Export of our parameters to Hugging Face safetensors and to T5X's layout, checked by loading them back:
transformers' PyTorch T5 gives our logits (< 1e-4), and both of our importers give the exact arrays."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

import torch
import transformers

from personalize.models.t5.checkpoint_export import export_checkpoint, export_hf, export_t5x  # noqa: E402
from personalize.models.t5.checkpoint_import import load_hf_t5, load_t5x, param_shapes  # noqa: E402
from personalize.models.t5.config import T5_1_0_ACTIVATIONS, T5_1_1_ACTIVATIONS, T5Config  # noqa: E402
from personalize.models.t5.network import Transformer  # noqa: E402

pytestmark = pytest.mark.slow  # exports and reloads checkpoints through torch/transformers (~30 s)

VOCAB = 64
SHAPES = {
    "t5_1_1": dict(mlp_activations=T5_1_1_ACTIVATIONS, logits_via_embedding=False),
    "t5_1_0": dict(mlp_activations=T5_1_0_ACTIVATIONS, logits_via_embedding=True),
}


def _config(shape: str) -> T5Config:
    return T5Config(vocab_size=VOCAB, emb_dim=32, num_heads=4, head_dim=8, mlp_dim=48, num_encoder_layers=2,
                    num_decoder_layers=3, relative_attention_num_buckets=8, relative_attention_max_distance=16,
                    dropout_rate=0.0, dtype="float32", **SHAPES[shape])


def _random_params(config: T5Config):
    """Random values of every parameter (not the initializer's: the relative bias and norms then matter too)."""
    rng = np.random.default_rng(0)
    flat = traverse_util.flatten_dict(param_shapes(config=config))
    return traverse_util.unflatten_dict({k: (0.3 * rng.normal(size=v.shape)).astype(np.float32)
                                         for k, v in flat.items()})


def _batch():
    rng = np.random.default_rng(1)
    enc = rng.integers(2, VOCAB, size=(2, 20))
    enc[0, 19] = 1
    enc[1, 11], enc[1, 12:] = 1, 0
    targets = rng.integers(2, VOCAB, size=(2, 18))
    decoder_inputs = np.concatenate([np.zeros((2, 1), np.int64), targets[:, :-1]], axis=1)
    return enc, decoder_inputs, targets


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_exported_hf_checkpoint_gives_our_logits_in_transformers(tmp_path, shape):
    config = _config(shape)
    params = _random_params(config)
    folder = export_hf(params=params, config=config, output_dir=str(tmp_path / "hf"))
    enc, decoder_inputs, targets = _batch()
    ours = np.asarray(Transformer(config).apply({"params": params}, jnp.asarray(enc), jnp.asarray(decoder_inputs),
                                                jnp.asarray(targets), enable_dropout=False))
    model = transformers.T5ForConditionalGeneration.from_pretrained(folder).eval()
    with torch.no_grad():
        theirs = model(input_ids=torch.tensor(enc), attention_mask=torch.tensor(enc > 0).long(),
                       decoder_input_ids=torch.tensor(decoder_inputs)).logits.numpy()
    assert theirs.shape == ours.shape == (2, 18, VOCAB)
    assert np.max(np.abs(theirs[0] - ours[0])) < 1e-4
    # Row 1's encoder has padding: the logits still agree (padding is masked alike).
    assert np.max(np.abs(theirs[1] - ours[1])) < 1e-4
    # A distinct output layer is really exported, not replaced by the embedding.
    assert torch.equal(model.lm_head.weight, model.shared.weight) == (shape == "t5_1_0")


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_exports_round_trip_through_our_importers(tmp_path, shape):
    config = _config(shape)
    params = _random_params(config)
    expected = traverse_util.flatten_dict(params)
    t5x_folder = export_checkpoint(params=params, config=config, output_dir=str(tmp_path / "checkpoint_70"),
                                   checkpoint_format="t5x", step=70)
    hf_folder = export_checkpoint(params=params, config=config, output_dir=str(tmp_path / "hf"),
                                  checkpoint_format="hf")
    loaded_config, from_hf = load_hf_t5(path=hf_folder, dtype="float32")
    assert loaded_config == config
    for loaded in (load_t5x(path=t5x_folder, config=config), from_hf):
        flat = traverse_util.flatten_dict(loaded)
        assert flat.keys() == expected.keys()
        for key, value in expected.items():
            np.testing.assert_array_equal(flat[key], value)


def test_t5x_export_records_the_step(tmp_path):
    from flax import serialization

    config = _config("t5_1_1")
    folder = export_t5x(params=_random_params(config), config=config, output_dir=str(tmp_path / "c"), step=1234)
    with open(f"{folder}/checkpoint", "rb") as handle:
        contents = serialization.msgpack_restore(handle.read())
    assert contents["version"] == 3
    assert int(contents["optimizer"]["state"]["step"]) == 1234


def test_export_refuses_params_of_another_shape(tmp_path):
    config = _config("t5_1_1")
    params = _random_params(config.replace(mlp_dim=40))
    with pytest.raises(ValueError, match="mlp/wi_0/kernel has shape"):
        export_hf(params=params, config=config, output_dir=str(tmp_path / "hf"))
    with pytest.raises(ValueError, match="checkpoint_format"):
        export_checkpoint(params=_random_params(config), config=config, output_dir=str(tmp_path / "x"),
                          checkpoint_format="onnx")
    assert not list(tmp_path.iterdir())
