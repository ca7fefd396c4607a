"""Cached decoding against the full forward pass, and beam search against exhaustive search."""

from __future__ import annotations

import functools
import itertools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from personalize.decoding.beam_search import NEG_INF, brevity_penalty
from personalize.decoding.generate import generate, make_tokens_to_logits, prefill_cache
from personalize.models.t5.config import T5Config
from personalize.models.t5.network import Transformer

pytestmark = pytest.mark.slow  # compiles greedy, sampling and beam search for many shapes (~75 s on 2 cores)

EOS = 1


@functools.lru_cache(maxsize=None)
def _cached_model(vocab_size: int, overrides: tuple):
    fields = dict(emb_dim=16, num_heads=2, head_dim=8, mlp_dim=32, num_encoder_layers=1, num_decoder_layers=1,
                  vocab_size=vocab_size, dropout_rate=0.0, dtype="float32", relative_attention_num_buckets=8,
                  relative_attention_max_distance=8)
    fields.update(overrides)
    model = Transformer(T5Config(**fields))
    tokens = jnp.ones((1, 4), jnp.int32)
    init = jax.jit(functools.partial(model.init, enable_dropout=False))
    params = nn.unbox(init(jax.random.PRNGKey(3), tokens, tokens)["params"])
    return model, params


def _model(vocab_size: int, **overrides):
    return _cached_model(vocab_size, tuple(sorted(overrides.items())))


@functools.partial(jax.jit, static_argnames="model")
def _forward(params, encoder_tokens, decoder_inputs, *, model):
    """Teacher-forced logits of the full (uncached) forward pass, causal mask only."""
    return model.apply({"params": params}, encoder_tokens, decoder_inputs, enable_dropout=False)


def _sequence_log_probs(model, params, encoder_tokens, sequences, lengths):
    """log p(sequence) by teacher forcing with the full (uncached) forward pass; `sequences` [n, L]."""
    n = sequences.shape[0]
    enc = jnp.repeat(encoder_tokens, n, axis=0)
    decoder_inputs = jnp.concatenate([jnp.zeros((n, 1), jnp.int32), sequences[:, :-1]], axis=1)
    logits = _forward(params, enc, decoder_inputs, model=model)
    token_log_probs = jnp.take_along_axis(jax.nn.log_softmax(logits), sequences[..., None], axis=-1)[..., 0]
    in_sequence = jnp.arange(sequences.shape[1])[None, :] < lengths[:, None]
    return np.asarray(jnp.sum(jnp.where(in_sequence, token_log_probs, 0.0), axis=1))


@pytest.mark.parametrize("overrides", [dict(num_decoder_layers=2),
                                       dict(mlp_activations=("relu",), logits_via_embedding=True)])
def test_cached_decoding_equals_full_forward(overrides):
    model, params = _model(vocab_size=32, **overrides)
    encoder_tokens = jnp.array([[5, 9, 3, 12, 1, 0, 0], [7, 2, 1, 0, 0, 0, 0]], jnp.int32)
    targets = jnp.array([[4, 8, 15, 16, 23, 1, 0, 0, 0, 0, 0, 0], [9, 9, 30, 2, 11, 6, 7, 3, 5, 20, 21, 1]],
                        jnp.int32)
    decoder_inputs = jnp.concatenate([jnp.zeros((2, 1), jnp.int32), targets[:, :-1]], axis=1)
    full = _forward(params, encoder_tokens, decoder_inputs, model=model)

    length = targets.shape[1]
    encoded = jax.jit(functools.partial(model.apply, enable_dropout=False, method=Transformer.encode))(
        {"params": params}, encoder_tokens)
    step_inputs = dict(model=model, params=params, encoded=encoded, encoder_input_tokens=encoder_tokens,
                       max_decode_length=length)
    cache = jax.jit(lambda: prefill_cache(**step_inputs))()
    step = jax.jit(make_tokens_to_logits(**step_inputs))
    cached = []
    for position in range(length):
        logits, cache = step(decoder_inputs[:, position], cache)
        cached.append(logits)
    cached = jnp.stack(cached, axis=1)
    np.testing.assert_allclose(np.asarray(cached), np.asarray(full), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_beam_search_equals_exhaustive_search(alpha):
    vocab, max_length = 6, 4
    model, params = _model(vocab_size=vocab)
    encoder_tokens = jnp.array([[3, 4, 5, 2, 1]], jnp.int32)

    # Every finished hypothesis: it ends in EOS at or before max_length (as in T5X, a sequence cut at max_length
    # is not finished).
    sequences, lengths = [], []
    for n in range(1, max_length + 1):
        for prefix in itertools.product([t for t in range(vocab) if t != EOS], repeat=n - 1):
            sequences.append(list(prefix) + [EOS] + [0] * (max_length - n))
            lengths.append(n)
    sequences, lengths = jnp.array(sequences, jnp.int32), jnp.array(lengths)
    assert sequences.shape[0] == 1 + 5 + 25 + 125
    scores = _sequence_log_probs(model, params, encoder_tokens, sequences, lengths)
    scores = scores / np.asarray(brevity_penalty(length=lengths, alpha=alpha))
    order = np.argsort(-scores)

    # With beams >= the number of live prefixes (5 ** 3) nothing is pruned: the search must find the exact top.
    result = generate(model=model, params=params, encoder_input_tokens=encoder_tokens, max_decode_length=max_length,
                      num_beams=125, alpha=alpha)
    np.testing.assert_array_equal(np.asarray(result.sequences[0, :3]), np.asarray(sequences[order[:3]]))
    np.testing.assert_allclose(np.asarray(result.scores[0, :3]), scores[order[:3]], atol=1e-5)

    # Beam 4 (the paper's setting) returns sequences scored exactly as the full model scores them.
    beam4 = generate(model=model, params=params, encoder_input_tokens=encoder_tokens, max_decode_length=max_length,
                     num_beams=4, alpha=alpha)
    found = {tuple(map(int, s)): float(v) for s, v in zip(np.asarray(sequences), scores)}
    assert float(beam4.scores[0, -1]) > NEG_INF / 2, "fewer than 4 hypotheses ended in EOS"
    for sequence, score in zip(np.asarray(beam4.sequences[0]), np.asarray(beam4.scores[0])):
        assert found[tuple(map(int, sequence))] == pytest.approx(float(score), abs=1e-5)
    assert np.all(np.diff(np.asarray(beam4.scores[0])) <= 0)
    assert float(beam4.scores[0, 0]) <= scores[order[0]] + 1e-6


def test_beam_search_batch_rows_are_independent():
    model, params = _model(vocab_size=6)
    encoder_tokens = jnp.array([[3, 4, 5, 2, 1], [4, 2, 1, 0, 0]], jnp.int32)
    batched = generate(model=model, params=params, encoder_input_tokens=encoder_tokens, max_decode_length=4)
    for row in range(2):
        single = generate(model=model, params=params, encoder_input_tokens=encoder_tokens[row:row + 1],
                          max_decode_length=4)
        np.testing.assert_array_equal(np.asarray(batched.sequences[row]), np.asarray(single.sequences[0]))
        np.testing.assert_allclose(np.asarray(batched.scores[row]), np.asarray(single.scores[0]), atol=1e-5)


def test_greedy_equals_step_by_step_argmax_of_full_forward():
    model, params = _model(vocab_size=16)
    encoder_tokens = jnp.array([[3, 4, 5, 2, 1], [9, 8, 1, 0, 0]], jnp.int32)
    max_length = 7
    result = generate(model=model, params=params, encoder_input_tokens=encoder_tokens, max_decode_length=max_length,
                      method="greedy")
    for row in range(2):
        sequence = []
        for position in range(max_length):
            # Causal attention: padding the decoder input to a fixed length leaves position `position` unchanged.
            decoder_inputs = jnp.array([[0] + sequence + [0] * (max_length - 1 - position)], jnp.int32)
            logits = _forward(params, encoder_tokens[row:row + 1], decoder_inputs, model=model)
            sequence.append(int(jnp.argmax(logits[0, position])))
            if sequence[-1] == EOS:
                break
        expected = sequence + [0] * (max_length - len(sequence))
        assert np.asarray(result.sequences[row, 0]).tolist() == expected
        log_prob = _sequence_log_probs(model, params, encoder_tokens[row:row + 1], jnp.array([expected]),
                                       jnp.array([len(sequence)]))
        assert float(result.scores[row, 0]) == pytest.approx(float(log_prob[0]), abs=1e-5)


def test_sampling_top_1_is_greedy_and_top_k_stays_in_top_k():
    model, params = _model(vocab_size=16)
    encoder_tokens = jnp.array([[3, 4, 5, 2, 1], [9, 8, 1, 0, 0]], jnp.int32)
    common = dict(model=model, params=params, encoder_input_tokens=encoder_tokens, max_decode_length=6)
    greedy = generate(**common, method="greedy")
    top1 = generate(**common, method="sample", top_k=1, rng=jax.random.PRNGKey(7))
    np.testing.assert_array_equal(np.asarray(top1.sequences), np.asarray(greedy.sequences))

    sample = generate(**common, method="sample", top_k=3, temperature=2.0, rng=jax.random.PRNGKey(11))
    again = generate(**common, method="sample", top_k=3, temperature=2.0, rng=jax.random.PRNGKey(11))
    np.testing.assert_array_equal(np.asarray(sample.sequences), np.asarray(again.sequences))
    for row in range(2):
        sequence = np.asarray(sample.sequences[row, 0]).tolist()
        length = sequence.index(EOS) + 1 if EOS in sequence else len(sequence)
        decoder_inputs = jnp.array([[0] + sequence[:-1]], jnp.int32)
        logits = _forward(params, encoder_tokens[row:row + 1], decoder_inputs, model=model)
        top3 = np.argsort(-np.asarray(logits[0]), axis=-1)[:, :3]
        assert all(sequence[t] in top3[t] for t in range(length))
        assert all(token == 0 for token in sequence[length:])


def test_generate_rejects_unknown_method_and_sampling_without_rng():
    model, params = Transformer(T5Config(emb_dim=4, num_heads=1, head_dim=4, mlp_dim=4, num_encoder_layers=1,
                                         num_decoder_layers=1)), None
    tokens = jnp.array([[3, 1]], jnp.int32)
    with pytest.raises(ValueError, match="method"):
        generate(model=model, params=params, encoder_input_tokens=tokens, max_decode_length=3, method="nucleus")
    with pytest.raises(ValueError, match="rng"):
        generate(model=model, params=params, encoder_input_tokens=tokens, max_decode_length=3, method="sample")
