"""Batched beam search over a cached one-step decoder (the paper decodes with beam size 4), as T5X's
decoding.beam_search.

Only hypotheses that end in EOS are finished; one cut at max_decode_length is not. A batch row in which no hypothesis
ended in EOS returns its live beams instead, scored by their plain log-probability. Finished hypotheses are ranked by
log p(sequence) / brevity_penalty(length), with T5X's ((5 + length) / 6) ** alpha; alpha = 0 ranks by log-probability
alone. The search stops once every kept finished hypothesis beats the best live beam divided by the largest penalty
(T5X evaluates it at max_decode_length + 1, counting its start token).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

# Scores of impossible candidates; finite so that arithmetic on them never produces NaN.
NEG_INF = -1.0e7

TokensToLogits = Callable[[jax.Array, Any], tuple[jax.Array, Any]]


class BeamSearchResult(NamedTuple):
    sequences: jax.Array  # [batch, beams, max_decode_length] int32, best first, 0 after EOS
    # [batch, beams] float32, descending: length-penalised log-probabilities of EOS-terminated hypotheses (unfilled
    # slots score about NEG_INF), or the live beams' plain log-probabilities in a row where none ended in EOS.
    scores: jax.Array


def brevity_penalty(*, length: jax.Array, alpha: float | jax.Array) -> jax.Array:
    """T5X's length normaliser ((5 + length) / 6) ** alpha."""
    return jnp.power((5.0 + jnp.asarray(length, jnp.float32)) / 6.0, alpha)


def gather_beams(tree: Any, beam_indices: jax.Array, *, batch_size: int, num_beams: int) -> Any:
    """Reorders every leaf whose leading axis is batch * beams (cache entries) by `beam_indices` [batch, beams];
    scalar leaves such as the decode position are shared and left as they are."""
    flat_size = batch_size * num_beams

    def gather(leaf: jax.Array) -> jax.Array:
        if leaf.ndim == 0:
            return leaf
        if leaf.shape[0] != flat_size:
            raise ValueError(f"cache leaf with leading axis {leaf.shape[0]}, expected batch * beams = {flat_size}")
        split = leaf.reshape((batch_size, num_beams) + leaf.shape[1:])
        index = beam_indices.reshape(beam_indices.shape + (1,) * (split.ndim - 2))
        return jnp.take_along_axis(split, index, axis=1).reshape(leaf.shape)

    return jax.tree_util.tree_map(gather, tree)


def _take_beams(x: jax.Array, indices: jax.Array) -> jax.Array:
    # x [batch, n, ...], indices [batch, m] -> [batch, m, ...]
    return jnp.take_along_axis(x, indices.reshape(indices.shape + (1,) * (x.ndim - 2)), axis=1)


class _State(NamedTuple):
    # Beams are kept in ascending order of score, as T5X keeps them, so that ties resolve as they do there.
    step: jax.Array
    live_sequences: jax.Array
    live_log_probs: jax.Array
    finished_sequences: jax.Array
    finished_scores: jax.Array
    finished_flags: jax.Array  # which finished slots hold an EOS-terminated hypothesis, not a filler
    cache: Any


def _top_ascending(scores: jax.Array, k: int) -> jax.Array:
    """Indices of the k best of `scores` [batch, n], worst first."""
    return jnp.flip(jax.lax.top_k(scores, k)[1], axis=1)


def beam_search(*, tokens_to_logits: TokensToLogits, cache: Any, batch_size: int, num_beams: int = 4,
                max_decode_length: int, alpha: float | jax.Array = 0.6, eos_id: int = 1,
                start_id: int = 0) -> BeamSearchResult:
    """Beam search from `start_id`; results best first.

    tokens_to_logits(tokens [batch * beams] int32, cache) -> (logits [batch * beams, vocab], cache) runs one decoder
    position; `cache` leaves carry batch * beams rows (beam-major within each batch element) or are scalars.
    """
    if num_beams < 1 or max_decode_length < 1:
        raise ValueError(f"num_beams and max_decode_length must be >= 1, got {num_beams}, {max_decode_length}")
    b, k, length = batch_size, num_beams, max_decode_length
    # T5X's sequences carry the start token, so its bound uses the penalty of max_decode_length + 1.
    max_penalty = brevity_penalty(length=length + 1, alpha=alpha)

    def not_done(state: _State) -> jax.Array:
        # A live beam's score can only fall: its log-probability decreases and the penalty is at most max_penalty.
        best_reachable = state.live_log_probs[:, -1:] / max_penalty
        worst_kept = jnp.min(state.finished_scores, axis=1, keepdims=True)
        worst_kept = jnp.where(state.finished_flags, worst_kept, NEG_INF)
        return (state.step < length) & ~jnp.all(worst_kept > best_reachable)

    def step_fn(state: _State) -> _State:
        step = state.step
        previous = jax.lax.dynamic_index_in_dim(state.live_sequences, jnp.maximum(step - 1, 0), axis=2,
                                                keepdims=False)
        previous = jnp.where(step == 0, start_id, previous)
        logits, cache = tokens_to_logits(previous.reshape(b * k).astype(jnp.int32), state.cache)
        log_probs = jax.nn.log_softmax(logits.astype(jnp.float32)).reshape(b, k, -1)
        vocab = log_probs.shape[-1]
        if vocab < 2:
            raise ValueError(f"beam search needs a vocabulary of at least 2 tokens, got {vocab}")

        # [batch, beams, vocab] -> the best 2 * beams extensions: at most `beams` of them end in EOS, so at least
        # `beams` stay live.
        candidates = (state.live_log_probs[:, :, None] + log_probs).reshape(b, k * vocab)
        top_log_probs, top_index = jax.lax.top_k(candidates, 2 * k)
        top_beam = top_index // vocab
        top_token = top_index % vocab
        top_sequences = _take_beams(state.live_sequences, top_beam)
        top_sequences = jax.lax.dynamic_update_index_in_dim(top_sequences, top_token.astype(jnp.int32), step, axis=2)
        ends = top_token == eos_id

        # Live: the best candidates that did not end in EOS.
        live_candidates = top_log_probs + ends * NEG_INF
        keep = _top_ascending(live_candidates, k)
        live_sequences = _take_beams(top_sequences, keep)
        live_log_probs = _take_beams(live_candidates, keep)
        cache = gather_beams(cache, _take_beams(top_beam, keep), batch_size=b, num_beams=k)

        # Finished: only candidates that end in EOS compete with the kept finished hypotheses.
        new_scores = top_log_probs / brevity_penalty(length=step + 1, alpha=alpha) + (~ends) * NEG_INF
        pool_scores = jnp.concatenate([state.finished_scores, new_scores], axis=1)
        keep = _top_ascending(pool_scores, k)
        finished_sequences = _take_beams(jnp.concatenate([state.finished_sequences, top_sequences], axis=1), keep)
        finished_scores = _take_beams(pool_scores, keep)
        finished_flags = _take_beams(jnp.concatenate([state.finished_flags, ends], axis=1), keep)
        return _State(step + 1, live_sequences, live_log_probs, finished_sequences, finished_scores, finished_flags,
                      cache)

    # Only one beam is live at the start, so the first step does not pick k copies of one token.
    initial_live = jnp.tile(jnp.array([0.0] + [NEG_INF] * (k - 1), jnp.float32), (b, 1))
    state = _State(
        step=jnp.array(0, jnp.int32),
        live_sequences=jnp.zeros((b, k, length), jnp.int32),
        live_log_probs=initial_live,
        finished_sequences=jnp.zeros((b, k, length), jnp.int32),
        finished_scores=jnp.full((b, k), NEG_INF, jnp.float32),
        finished_flags=jnp.zeros((b, k), jnp.bool_),
        cache=cache,
    )
    state = jax.lax.while_loop(not_done, step_fn, state)
    # A row where nothing ended in EOS returns its live beams and their log-probabilities.
    any_finished = jnp.any(state.finished_flags, axis=1)
    sequences = jnp.where(any_finished[:, None, None], state.finished_sequences, state.live_sequences)
    scores = jnp.where(any_finished[:, None], state.finished_scores, state.live_log_probs)
    return BeamSearchResult(sequences=jnp.flip(sequences, axis=1), scores=jnp.flip(scores, axis=1))
