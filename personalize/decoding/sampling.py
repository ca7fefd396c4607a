"""Greedy decoding and temperature sampling (optionally top-k) over a cached one-step decoder."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from personalize.decoding.beam_search import NEG_INF, TokensToLogits


class SampleResult(NamedTuple):
    sequences: jax.Array  # [batch, max_decode_length] int32, 0 after EOS
    log_probs: jax.Array  # [batch] float32, log-probability of each sequence under the model (temperature 1)


class _State(NamedTuple):
    step: jax.Array
    sequences: jax.Array
    log_probs: jax.Array
    done: jax.Array
    rng: jax.Array
    cache: Any


def temperature_sample(*, tokens_to_logits: TokensToLogits, cache: Any, batch_size: int, max_decode_length: int,
                       rng: jax.Array, temperature: float = 1.0, top_k: int = 0, eos_id: int = 1,
                       start_id: int = 0) -> SampleResult:
    """Samples one sequence per row from softmax(logits / temperature), restricted to the top_k ids when top_k > 0.

    temperature == 0 takes the argmax (greedy). A row stops at EOS; the loop stops when every row has.
    tokens_to_logits(tokens [batch] int32, cache) -> (logits [batch, vocab], cache).
    """
    if temperature < 0.0 or top_k < 0 or max_decode_length < 1:
        raise ValueError(f"need temperature >= 0, top_k >= 0, max_decode_length >= 1; got {temperature}, {top_k}, "
                         f"{max_decode_length}")

    def not_done(state: _State) -> jax.Array:
        return (state.step < max_decode_length) & ~jnp.all(state.done)

    def step_fn(state: _State) -> _State:
        step = state.step
        previous = jax.lax.dynamic_index_in_dim(state.sequences, jnp.maximum(step - 1, 0), axis=1, keepdims=False)
        previous = jnp.where(step == 0, start_id, previous)
        logits, cache = tokens_to_logits(previous.astype(jnp.int32), state.cache)
        logits = logits.astype(jnp.float32)
        rng, step_rng = jax.random.split(state.rng)
        if temperature == 0.0:
            token = jnp.argmax(logits, axis=-1)
        else:
            scaled = logits / temperature
            if top_k > 0:
                kth_best = jax.lax.top_k(scaled, top_k)[0][:, -1:]
                scaled = jnp.where(scaled < kth_best, NEG_INF, scaled)
            token = jax.random.categorical(step_rng, scaled, axis=-1)
        token = jnp.where(state.done, 0, token).astype(jnp.int32)
        token_log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), token[:, None], axis=-1)[:, 0]
        log_probs = state.log_probs + jnp.where(state.done, 0.0, token_log_prob)
        sequences = jax.lax.dynamic_update_index_in_dim(state.sequences, token, step, axis=1)
        done = state.done | (token == eos_id)
        return _State(step + 1, sequences, log_probs, done, rng, cache)

    state = _State(
        step=jnp.array(0, jnp.int32),
        sequences=jnp.zeros((batch_size, max_decode_length), jnp.int32),
        log_probs=jnp.zeros((batch_size,), jnp.float32),
        done=jnp.zeros((batch_size,), bool),
        rng=rng,
        cache=cache,
    )
    state = jax.lax.while_loop(not_done, step_fn, state)
    return SampleResult(sequences=state.sequences, log_probs=state.log_probs)


def greedy_decode(*, tokens_to_logits: TokensToLogits, cache: Any, batch_size: int, max_decode_length: int,
                  eos_id: int = 1, start_id: int = 0) -> SampleResult:
    """The most likely next token at every step, until EOS or max_decode_length."""
    return temperature_sample(tokens_to_logits=tokens_to_logits, cache=cache, batch_size=batch_size,
                              max_decode_length=max_decode_length, rng=jax.random.PRNGKey(0), temperature=0.0,
                              eos_id=eos_id, start_id=start_id)
