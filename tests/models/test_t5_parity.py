"""Our Flax T5 against transformers' PyTorch T5, through our checkpoint importer, in float32.

The reference models are random-initialised from a small T5Config and saved to tmp_path: no download.
"""

from __future__ import annotations

import json
import os

import jax.numpy as jnp
import numpy as np
import pytest

import safetensors.torch as safetensors_torch
import torch
import transformers

from personalize.models.t5.checkpoint_import import CheckpointImportError, load_hf_t5  # noqa: E402
from personalize.models.t5.loss import cross_entropy_loss  # noqa: E402
from personalize.models.t5.network import Transformer  # noqa: E402

VOCAB = 64
# Few buckets and a short max distance, with inputs of length 20, so that the logarithmic buckets are used.
HF_SHAPE = dict(vocab_size=VOCAB, d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=2, num_heads=4,
                relative_attention_num_buckets=8, relative_attention_max_distance=16, dropout_rate=0.0)


def _hf_model(feed_forward_proj: str, tie_word_embeddings: bool):
    torch.manual_seed(0)
    config = transformers.T5Config(**HF_SHAPE, feed_forward_proj=feed_forward_proj,
                                   tie_word_embeddings=tie_word_embeddings)
    return transformers.T5ForConditionalGeneration(config).eval()


def _batch():
    rng = np.random.default_rng(0)
    enc = rng.integers(2, VOCAB, size=(2, 20))
    enc[0, 19] = 1
    enc[1, 11] = 1
    enc[1, 12:] = 0
    targets = rng.integers(2, VOCAB, size=(2, 18))
    targets[0, 17] = 1
    targets[1, 6] = 1
    targets[1, 7:] = 0
    decoder_inputs = np.concatenate([np.zeros((2, 1), np.int64), targets[:, :-1]], axis=1)
    return enc, decoder_inputs, targets


def _reference(model, enc, decoder_inputs, targets):
    with torch.no_grad():
        labels = torch.tensor(np.where(targets == 0, -100, targets))
        out = model(input_ids=torch.tensor(enc), attention_mask=torch.tensor(enc > 0).long(),
                    decoder_input_ids=torch.tensor(decoder_inputs), labels=labels)
        encoded = model.encoder(input_ids=torch.tensor(enc), attention_mask=torch.tensor(enc > 0).long())
    return encoded.last_hidden_state.numpy(), out.logits.numpy(), float(out.loss)


def _ours(path):
    config, params = load_hf_t5(path=str(path), dtype="float32")
    enc, decoder_inputs, targets = _batch()
    model = Transformer(config)
    encoded = model.apply({"params": params}, jnp.asarray(enc), enable_dropout=False, method=Transformer.encode)
    logits = model.apply({"params": params}, jnp.asarray(enc), jnp.asarray(decoder_inputs), jnp.asarray(targets),
                         enable_dropout=False)
    loss = cross_entropy_loss(logits=logits, targets=jnp.asarray(targets), z_loss=0.0).loss
    return config, np.asarray(encoded), np.asarray(logits), float(loss)


def _assert_parity(path, model):
    enc, decoder_inputs, targets = _batch()
    ref_encoded, ref_logits, ref_loss = _reference(model, enc, decoder_inputs, targets)
    config, encoded, logits, loss = _ours(path)
    enc_valid, target_valid = enc > 0, targets > 0
    assert np.max(np.abs(encoded[enc_valid] - ref_encoded[enc_valid])) < 1e-4
    assert np.max(np.abs(logits[target_valid] - ref_logits[target_valid])) < 1e-4
    assert loss == pytest.approx(ref_loss, abs=1e-5)
    return config


def test_t5_1_0_relu_tied_matches_transformers(tmp_path):
    model = _hf_model("relu", tie_word_embeddings=True)
    model.save_pretrained(tmp_path)
    config = _assert_parity(tmp_path, model)
    assert config.mlp_activations == ("relu",)
    assert config.logits_via_embedding


def test_t5_1_1_saved_by_transformers_5_matches(tmp_path):
    # transformers >= 5 writes tie_word_embeddings=true, scale_decoder_outputs=false and no lm_head.weight.
    model = _hf_model("gated-gelu", tie_word_embeddings=False)
    model.save_pretrained(tmp_path)
    config = _assert_parity(tmp_path, model)
    assert config.mlp_activations == ("gelu", "linear")
    assert not config.logits_via_embedding


def test_t5_1_1_published_layout_with_untied_lm_head_matches(tmp_path):
    # The layout of google/t5-v1_1-* and google/flan-t5-*: tie_word_embeddings=false and its own lm_head.weight.
    model = _hf_model("gated-gelu", tie_word_embeddings=False)
    torch.manual_seed(1)
    model.lm_head = torch.nn.Linear(HF_SHAPE["d_model"], VOCAB, bias=False)
    state = {k: v.detach().clone() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    state["lm_head.weight"] = model.lm_head.weight.detach().clone()
    safetensors_torch.save_file(state, os.path.join(tmp_path, "model.safetensors"))
    hf_config = model.config.to_dict()
    hf_config.pop("scale_decoder_outputs", None)
    hf_config["tie_word_embeddings"] = False
    with open(os.path.join(tmp_path, "config.json"), "w") as f:
        json.dump(hf_config, f)
    _assert_parity(tmp_path, model)


def test_sharded_safetensors_import_equals_single_file(tmp_path):
    model = _hf_model("gated-gelu", tie_word_embeddings=False)
    model.save_pretrained(tmp_path / "single")
    model.save_pretrained(tmp_path / "sharded", max_shard_size="20KB")
    assert os.path.exists(tmp_path / "sharded" / "model.safetensors.index.json")
    _, single = load_hf_t5(path=str(tmp_path / "single"), dtype="float32")
    _, sharded = load_hf_t5(path=str(tmp_path / "sharded"), dtype="float32")
    flat_single = {k: v for k, v in _flatten(single)}
    flat_sharded = {k: v for k, v in _flatten(sharded)}
    assert flat_single.keys() == flat_sharded.keys()
    for key, value in flat_single.items():
        np.testing.assert_array_equal(value, flat_sharded[key])


def test_import_names_the_missing_tensor(tmp_path):
    model = _hf_model("relu", tie_word_embeddings=True)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()
             if k != "decoder.block.1.layer.2.DenseReluDense.wo.weight"}
    safetensors_torch.save_file(state, os.path.join(tmp_path, "model.safetensors"))
    with open(os.path.join(tmp_path, "config.json"), "w") as f:
        json.dump(model.config.to_dict(), f)
    with pytest.raises(CheckpointImportError, match="decoder.block.1.layer.2.DenseReluDense.wo.weight"):
        load_hf_t5(path=str(tmp_path))


def _flatten(tree, prefix=()):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, prefix + (key,))
        else:
            yield prefix + (key,), value


def test_initial_params_for_fine_tuning_come_from_the_checkpoint_and_check_its_shape(tmp_path):
    import dataclasses

    from personalize.models.t5.checkpoint_import import CheckpointImportError, initial_params, load_hf_t5

    _hf_model("gated-gelu", tie_word_embeddings=False).save_pretrained(tmp_path)
    config, expected = load_hf_t5(path=str(tmp_path), dtype="float32")
    assert initial_params(path=None, checkpoint_format="hf") is None
    params = initial_params(path=str(tmp_path), checkpoint_format="hf", config=config)
    assert {k: v.shape for k, v in _flatten(params)} == {k: v.shape for k, v in _flatten(expected)}
    with pytest.raises(CheckpointImportError):
        initial_params(path=str(tmp_path), checkpoint_format="hf", config=dataclasses.replace(config, mlp_dim=config.mlp_dim + 1))
