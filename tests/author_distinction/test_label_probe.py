"""The +AuthorPred label probe: how likely the author task's labels are under generation inputs."""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from personalize.author_distinction.label_probe import describe, label_probe
from personalize.decoding.score import sequence_log_likelihoods
from personalize.models.t5.config import T5Config
from personalize.models.t5.network import Transformer


class _WordVocabulary:
    """One id per word: 'true' -> 2, 'false' -> 3 and 4 (two pieces), anything else by its length."""

    def encode(self, text: str) -> list[int]:
        pieces = {"true": [2], "false": [3, 4]}
        return [i for word in text.split() for i in pieces.get(word, [5 + len(word) % 6])]


@functools.lru_cache(maxsize=None)
def _model():
    model = Transformer(T5Config(emb_dim=16, num_heads=2, head_dim=8, mlp_dim=32, num_encoder_layers=1,
                                 num_decoder_layers=1, vocab_size=12, dropout_rate=0.0, dtype="float32",
                                 relative_attention_num_buckets=8, relative_attention_max_distance=8))
    tokens = jnp.ones((1, 4), jnp.int32)
    params = nn.unbox(jax.jit(functools.partial(model.init, enable_dropout=False))(
        jax.random.PRNGKey(7), tokens, tokens)["params"])
    return model, params


def test_the_probe_scores_both_labels_and_counts_predictions_that_are_labels():
    model, params = _model()
    inputs = [[6, 7, 8, 1], [9, 6, 1], [7, 7, 7, 7, 1], [8, 1]]
    predictions = ["true", "a long continuation of the passage", "false", "more words here"]
    probe = label_probe(inputs=inputs, predictions=predictions, vocabulary=_WordVocabulary(), model=model,
                        params=params, inputs_length=8, targets_length=8, alpha=0.6, batch_size=2)
    assert probe["examples"] == 4
    assert probe["predictions_that_are_labels"] == 0.5
    # A prediction that is a label is outranked (tied) by that label: at least those two.
    assert probe["label_outranks_prediction"] >= 0.5
    assert probe["labels"]["true"]["pieces"] == 2 and probe["labels"]["false"]["pieces"] == 3
    expected_true = sequence_log_likelihoods(model=model, params=params, inputs=inputs, targets=[[2]] * 4,
                                             inputs_length=8, targets_length=8)
    assert probe["labels"]["true"]["mean_log_likelihood"] == pytest.approx(float(expected_true.mean()), abs=1e-5)
    assert probe["labels"]["true"]["max_log_likelihood"] == pytest.approx(float(expected_true.max()), abs=1e-5)
    first_of_false = sequence_log_likelihoods(model=model, params=params, inputs=inputs, targets=[[3]] * 4,
                                              inputs_length=8, targets_length=1)
    assert probe["labels"]["false"]["first_piece_mean_log_likelihood"] == pytest.approx(
        float(first_of_false.mean()), abs=1e-5)
    # The first piece alone is likelier than the first piece followed by the rest of the label and EOS.
    assert probe["labels"]["false"]["first_piece_mean_log_likelihood"] > probe["labels"]["false"]["mean_log_likelihood"]
    assert "50% of the predictions are a label" in describe(probe)


def test_the_probe_needs_one_prediction_per_input():
    model, params = _model()
    with pytest.raises(ValueError, match="2 inputs but 1 predictions"):
        label_probe(inputs=[[6, 1], [7, 1]], predictions=["true"], vocabulary=_WordVocabulary(), model=model,
                    params=params, inputs_length=4, targets_length=4, alpha=0.6)
