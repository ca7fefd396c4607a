"""Beam search at the length limit, as T5X's decoding.beam_search: only EOS-terminated hypotheses are finished.

A sequence cut at max_decode_length is never a finished hypothesis; only when no hypothesis of a batch row ended in
EOS are that row's live beams returned, scored by their plain log-probability (no brevity penalty).
The decoder here is a Markov chain over a small vocabulary: logits depend on the previous token only, so every
sequence's log-probability is known exactly.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np

from personalize.decoding.beam_search import NEG_INF, beam_search, brevity_penalty

EOS = 1


@functools.partial(jax.jit, static_argnames=("batch_size", "num_beams", "max_decode_length"))
def _search(table, alpha, *, batch_size, num_beams, max_decode_length):
    rows = batch_size * num_beams
    # A per-row cache leaf (reordered with the beams) and a shared scalar, like the decoder's cache.
    cache = {"rows": jnp.arange(rows, dtype=jnp.float32)[:, None], "position": jnp.zeros((), jnp.int32)}

    def tokens_to_logits(tokens, cache):
        return table[tokens], {"rows": cache["rows"], "position": cache["position"] + 1}

    return beam_search(tokens_to_logits=tokens_to_logits, cache=cache, batch_size=batch_size, num_beams=num_beams,
                       max_decode_length=max_decode_length, alpha=alpha, eos_id=EOS)


def _chain_search(log_table: np.ndarray, *, batch_size: int = 1, num_beams: int, max_decode_length: int,
                  alpha: float):
    """Beam search over the chain p(next | previous) = softmax(log_table[previous]); token 0 starts."""
    result = _search(jnp.asarray(log_table, jnp.float32), jnp.float32(alpha), batch_size=batch_size,
                     num_beams=num_beams, max_decode_length=max_decode_length)
    return np.asarray(result.sequences), np.asarray(result.scores)


def _log_prob(log_table: np.ndarray, sequence) -> float:
    table = np.asarray(log_table, np.float64)
    log_probs = table - np.log(np.sum(np.exp(table - table.max(axis=1, keepdims=True)), axis=1,
                                      keepdims=True)) - table.max(axis=1, keepdims=True)
    total, previous = 0.0, 0
    for token in sequence:
        if previous == EOS:
            break
        total += float(log_probs[previous, token])
        previous = token
    return total


def _length(sequence) -> int:
    sequence = list(sequence)
    return sequence.index(EOS) + 1 if EOS in sequence else len(sequence)


def test_a_likelier_truncated_sequence_does_not_beat_an_eos_terminated_one():
    # From any token: 2 with p=0.9, EOS 0.05, 3 0.04, 0 0.01. The cut sequence [2, 2, 2] has the best
    # length-penalised log-probability, but it never ended; the best finished sequence is [2, 2, EOS].
    log_table = np.log(np.tile([[0.01, 0.05, 0.9, 0.04]], (4, 1)))
    sequences, scores = _chain_search(log_table, num_beams=4, max_decode_length=3, alpha=0.6)
    assert sequences[0, 0].tolist() == [2, 2, EOS]
    expected = _log_prob(log_table, [2, 2, EOS]) / float(brevity_penalty(length=3, alpha=0.6))
    assert abs(scores[0, 0] - expected) < 1e-5
    real = scores[0] > NEG_INF / 2
    assert all(EOS in s for s in sequences[0][real].tolist())
    assert np.all(np.diff(scores[0]) <= 0)


def test_with_no_eos_terminated_hypothesis_the_live_beams_are_returned_with_their_log_probabilities():
    # EOS is never among the best 2 * beams extensions (seven likelier tokens), so nothing finishes.
    rng = np.random.default_rng(0)
    log_table = rng.normal(size=(9, 9))
    log_table[:, EOS] = -30.0
    sequences, scores = _chain_search(log_table, num_beams=3, max_decode_length=4, alpha=0.6)
    assert all(EOS not in s for s in sequences[0].tolist())
    # Plain log-probabilities: no brevity penalty, although alpha = 0.6.
    np.testing.assert_allclose(scores[0], [_log_prob(log_table, s) for s in sequences[0]], atol=1e-5)
    assert np.all(np.diff(scores[0]) <= 0)
    # The best live beam is the best sequence of full length (greedy is optimal here only by luck, so compare with
    # the exhaustive maximum over full-length sequences instead).
    best = max(_log_prob(log_table, s) for s in itertools.product([0] + list(range(2, 9)), repeat=4))
    assert scores[0, 0] <= best + 1e-5


def test_random_chains_return_eos_terminated_sequences_whenever_any_finished():
    """The issue's toy comparison: on random chains a truncated sequence must never be returned beside or above an
    EOS-terminated one; a row returns either finished (EOS) sequences or, when none finished, its live beams."""
    rng = np.random.default_rng(12)
    truncated_returned = 0
    cases = 0
    for vocab, num_beams, max_length, alpha in itertools.product([4, 6], [2, 4], [3, 5], [0.0, 0.6]):
        for _ in range(4):
            log_table = rng.normal(scale=2.0, size=(vocab, vocab))
            sequences, scores = _chain_search(log_table, batch_size=1, num_beams=num_beams,
                                              max_decode_length=max_length, alpha=alpha)
            cases += 1
            real = [(s, v) for s, v in zip(sequences[0].tolist(), scores[0]) if v > NEG_INF / 2]
            finished = [EOS in s for s, _ in real]
            if any(finished):
                truncated_returned += not all(finished)
                for sequence, score in real:
                    expected = _log_prob(log_table, sequence) / float(brevity_penalty(length=_length(sequence),
                                                                                     alpha=alpha))
                    assert abs(score - expected) < 1e-4
            else:
                for sequence, score in real:
                    assert abs(score - _log_prob(log_table, sequence)) < 1e-4
    assert cases == 64
    assert truncated_returned == 0

