"""Batched beam search over a cached one-step decoder (the paper decodes with beam size 4).

A sequence ends at EOS or when it reaches max_decode_length. Finished sequences are ranked by
log p(sequence) / brevity_penalty(length), with T5X's brevity penalty ((5 + length) / 6) ** alpha; alpha = 0 ranks by
log-probability alone. The search stops early once no live beam can still beat the worst kept finished sequence.
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
    scores: jax.Array  # [batch, beams] float32, length-penalised log-probabilities, descending


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
    step: jax.Array
    live_sequences: jax.Array
    live_log_probs: jax.Array
    finished_sequences: jax.Array
    finished_scores: jax.Array
    cache: Any


def beam_search(*, tokens_to_logits: TokensToLogits, cache: Any, batch_size: int, num_beams: int = 4,
                max_decode_length: int, alpha: float | jax.Array = 0.6, eos_id: int = 1, start_id: int = 0) -> BeamSearchResult:
    """Beam search from `start_id`.

    tokens_to_logits(tokens [batch * beams] int32, cache) -> (logits [batch * beams, vocab], cache) runs one decoder
    position; `cache` leaves carry batch * beams rows (beam-major within each batch element) or are scalars.
    """
    if num_beams < 1 or max_decode_length < 1:
        raise ValueError(f"num_beams and max_decode_length must be >= 1, got {num_beams}, {max_decode_length}")
    b, k, length = batch_size, num_beams, max_decode_length
    max_penalty = brevity_penalty(length=length, alpha=alpha)

    def not_done(state: _State) -> jax.Array:
        # A live beam's score can only fall: its log-probability decreases and the penalty grows at most to
        # max_penalty, so live_log_prob / max_penalty bounds every score it can still reach.
        best_reachable = jnp.max(state.live_log_probs, axis=1) / max_penalty
        worst_kept = jnp.min(state.finished_scores, axis=1)
        return (state.step < length) & ~jnp.all(worst_kept >= best_reachable)

    def step_fn(state: _State) -> _State:
        step = state.step
        previous = jax.lax.dynamic_index_in_dim(state.live_sequences, jnp.maximum(step - 1, 0), axis=2,
                                                keepdims=False)
        previous = jnp.where(step == 0, start_id, previous)
        logits, cache = tokens_to_logits(previous.reshape(b * k).astype(jnp.int32), state.cache)
        log_probs = jax.nn.log_softmax(logits.astype(jnp.float32)).reshape(b, k, -1)
        vocab = log_probs.shape[-1]

        # [batch, beams, vocab] -> the best 2 * beams extensions: at most `beams` of them end in EOS, so at least
        # `beams` stay live.
        candidates = (state.live_log_probs[:, :, None] + log_probs).reshape(b, k * vocab)
        top_log_probs, top_index = jax.lax.top_k(candidates, min(2 * k, k * vocab))
        top_beam = top_index // vocab
        top_token = top_index % vocab
        top_sequences = _take_beams(state.live_sequences, top_beam)
        top_sequences = jax.lax.dynamic_update_index_in_dim(top_sequences, top_token.astype(jnp.int32), step, axis=2)
        possible = top_log_probs > NEG_INF / 2
        ends = top_token == eos_id

        # Finished: candidates ending in EOS, and every candidate once the maximum length is reached.
        new_scores = top_log_probs / brevity_penalty(length=step + 1, alpha=alpha)
        new_scores = jnp.where(possible & (ends | (step + 1 == length)), new_scores, NEG_INF)
        pool_sequences = jnp.concatenate([state.finished_sequences, top_sequences], axis=1)
        pool_scores = jnp.concatenate([state.finished_scores, new_scores], axis=1)
        finished_scores, keep = jax.lax.top_k(pool_scores, k)
        finished_sequences = _take_beams(pool_sequences, keep)

        # Live: the best candidates that did not end.
        live_candidates = jnp.where(ends, NEG_INF, top_log_probs)
        live_log_probs, keep = jax.lax.top_k(live_candidates, k)
        live_sequences = _take_beams(top_sequences, keep)
        cache = gather_beams(cache, _take_beams(top_beam, keep), batch_size=b, num_beams=k)
        return _State(step + 1, live_sequences, live_log_probs, finished_sequences, finished_scores, cache)

    # Only the first beam is live at the start, so the first step does not pick k copies of one token.
    initial_live = jnp.tile(jnp.array([0.0] + [NEG_INF] * (k - 1), jnp.float32), (b, 1))
    state = _State(
        step=jnp.array(0, jnp.int32),
        live_sequences=jnp.zeros((b, k, length), jnp.int32),
        live_log_probs=initial_live,
        finished_sequences=jnp.zeros((b, k, length), jnp.int32),
        finished_scores=jnp.full((b, k), NEG_INF, jnp.float32),
        cache=cache,
    )
    state = jax.lax.while_loop(not_done, step_fn, state)
    return BeamSearchResult(sequences=state.finished_sequences, scores=state.finished_scores)
