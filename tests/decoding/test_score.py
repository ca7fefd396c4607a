"""T5X's score mode: teacher-forced log-likelihoods, ranked exactly as beam search ranks finished sequences."""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from personalize.decoding.generate import generate
from personalize.decoding.score import penalised, sequence_log_likelihoods, with_eos
from personalize.models.t5.config import T5Config
from personalize.models.t5.network import Transformer

EOS = 1


@functools.lru_cache(maxsize=None)
def _model():
    model = Transformer(T5Config(emb_dim=16, num_heads=2, head_dim=8, mlp_dim=32, num_encoder_layers=1,
                                 num_decoder_layers=1, vocab_size=12, dropout_rate=0.0, dtype="float32",
                                 relative_attention_num_buckets=8, relative_attention_max_distance=8))
    tokens = jnp.ones((1, 4), jnp.int32)
    params = nn.unbox(jax.jit(functools.partial(model.init, enable_dropout=False))(
        jax.random.PRNGKey(5), tokens, tokens)["params"])
    return model, params


def test_a_target_is_cut_and_ends_in_eos_as_training_appends_it():
    assert with_eos([5, 6, 7], length=8) == [5, 6, 7, EOS]
    assert with_eos([5, 6, 7, EOS, 0, 0], length=8) == [5, 6, 7, EOS]
    assert with_eos([5, 6, 7, 8], length=3) == [5, 6, 7]


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.5])
def test_the_penalised_score_of_the_beams_best_sequence_is_the_beams_own_score(alpha):
    model, params = _model()
    encoder = np.array([[3, 4, 5, EOS, 0, 0], [7, 2, 9, 9, 4, EOS]], np.int32)
    decoded = generate(model=model, params=params, encoder_input_tokens=jnp.asarray(encoder), max_decode_length=6,
                       method="beam", num_beams=3, alpha=alpha)
    best = np.asarray(decoded.sequences)[:, 0]
    ended = [EOS in list(row) for row in best]
    assert any(ended), "the tiny model should end at least one beam within 6 pieces"
    log_likelihood = sequence_log_likelihoods(model=model, params=params, inputs=list(encoder),
                                              targets=[list(row) for row in best], inputs_length=6,
                                              targets_length=6, batch_size=4)
    pieces = np.array([len(with_eos(row, length=6)) for row in best])
    expected = np.asarray(decoded.scores)[:, 0]
    for index in np.flatnonzero(ended):
        assert penalised(log_likelihood=log_likelihood, pieces=pieces, alpha=alpha)[index] == pytest.approx(
            expected[index], abs=1e-4)


def test_scores_do_not_depend_on_the_batch_or_on_padding():
    model, params = _model()
    inputs = [[3, 4, 5, EOS], [7, 2, 9, EOS], [2, EOS]]
    targets = [[4, 4], [9, 8, 7, 6], [3]]
    one_by_one = np.concatenate([
        sequence_log_likelihoods(model=model, params=params, inputs=[i], targets=[t], inputs_length=6,
                                 targets_length=6, batch_size=1) for i, t in zip(inputs, targets)])
    batched = sequence_log_likelihoods(model=model, params=params, inputs=inputs, targets=targets, inputs_length=8,
                                       targets_length=8, batch_size=2)
    np.testing.assert_allclose(one_by_one, batched, atol=1e-5)
    assert np.all(batched < 0)
    # A longer target of the same prefix is less likely: every extra piece has probability below 1.
    longer = sequence_log_likelihoods(model=model, params=params, inputs=[inputs[0]], targets=[[4, 4, 5]],
                                      inputs_length=6, targets_length=6)
    assert longer[0] != pytest.approx(batched[0])


def test_inputs_and_targets_must_pair_up():
    model, params = _model()
    with pytest.raises(ValueError, match="2 inputs but 1 targets"):
        sequence_log_likelihoods(model=model, params=params, inputs=[[3], [4]], targets=[[5]], inputs_length=4,
                                 targets_length=4)
