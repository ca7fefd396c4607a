"""Generation with the T5 network: encode once, prefill the decoder cache, then search, all under one jax.jit."""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from personalize.decoding.beam_search import beam_search
from personalize.decoding.sampling import temperature_sample
from personalize.models.t5.network import Transformer

METHODS = ("beam", "greedy", "sample")


class Decoded(NamedTuple):
    sequences: jax.Array  # [batch, num_returned, max_decode_length] int32, best first; 0 after EOS
    scores: jax.Array  # [batch, num_returned] float32: beam: length-penalised log-prob; greedy/sample: log-prob


def prefill_cache(*, model: Transformer, params: Any, encoded: jax.Array, encoder_input_tokens: jax.Array,
                  max_decode_length: int) -> Any:
    """The decoder's 'cache' collection for these encoder outputs: empty self-attention caches of
    max_decode_length, the projected encoder keys/values, and the decode position 0."""
    start = jnp.zeros((encoded.shape[0], 1), jnp.int32)
    _, variables = model.apply({"params": params}, encoded, encoder_input_tokens, start, enable_dropout=False,
                               decode=True, max_decode_length=max_decode_length, mutable=["cache"],
                               method=Transformer.decode)
    return variables["cache"]


def make_tokens_to_logits(*, model: Transformer, params: Any, encoded: jax.Array, encoder_input_tokens: jax.Array,
                          max_decode_length: int) -> Callable[[jax.Array, Any], tuple[jax.Array, Any]]:
    """One cached decoder step: (tokens [n], cache) -> (logits [n, vocab] float32, cache)."""

    def tokens_to_logits(tokens: jax.Array, cache: Any) -> tuple[jax.Array, Any]:
        logits, variables = model.apply({"params": params, "cache": cache}, encoded, encoder_input_tokens,
                                        tokens[:, None], enable_dropout=False, decode=True,
                                        max_decode_length=max_decode_length, mutable=["cache"],
                                        method=Transformer.decode)
        return logits[:, 0], variables["cache"]

    return tokens_to_logits


@functools.partial(jax.jit, static_argnames=("model", "max_decode_length", "method", "num_beams", "temperature",
                                             "top_k", "eos_id"))
def _generate(params: Any, encoder_input_tokens: jax.Array, rng: jax.Array, alpha: jax.Array, *, model: Transformer,
              max_decode_length: int, method: str, num_beams: int, temperature: float, top_k: int,
              eos_id: int) -> Decoded:
    batch_size = encoder_input_tokens.shape[0]
    encoded = model.apply({"params": params}, encoder_input_tokens, enable_dropout=False, method=Transformer.encode)
    copies = num_beams if method == "beam" else 1
    # [batch, ...] -> [batch * copies, ...], the copies of one example adjacent (beam-major within the example).
    encoded = jnp.repeat(encoded, copies, axis=0)
    encoder_input_tokens = jnp.repeat(encoder_input_tokens, copies, axis=0)
    step_inputs = dict(model=model, params=params, encoded=encoded, encoder_input_tokens=encoder_input_tokens,
                       max_decode_length=max_decode_length)
    cache = prefill_cache(**step_inputs)
    tokens_to_logits = make_tokens_to_logits(**step_inputs)
    if method == "beam":
        result = beam_search(tokens_to_logits=tokens_to_logits, cache=cache, batch_size=batch_size,
                             num_beams=num_beams, max_decode_length=max_decode_length, alpha=alpha, eos_id=eos_id)
        return Decoded(sequences=result.sequences, scores=result.scores)
    result = temperature_sample(tokens_to_logits=tokens_to_logits, cache=cache, batch_size=batch_size,
                                max_decode_length=max_decode_length, rng=rng,
                                temperature=0.0 if method == "greedy" else temperature, top_k=top_k, eos_id=eos_id)
    return Decoded(sequences=result.sequences[:, None, :], scores=result.log_probs[:, None])


def generate(*, model: Transformer, params: Any, encoder_input_tokens: jax.Array, max_decode_length: int,
             method: str = "beam", num_beams: int = 4, alpha: float = 0.6, temperature: float = 1.0, top_k: int = 0,
             rng: jax.Array | None = None, eos_id: int = 1) -> Decoded:
    """Decodes a batch of encoder inputs [batch, length] (0 = padding).

    method: 'beam' (num_beams results per example, brevity penalty alpha; the paper uses beam size 4),
    'greedy', or 'sample' (temperature, optional top_k; needs rng). Compiled once per shape and setting.
    """
    if method not in METHODS:
        raise ValueError(f"generate: method must be one of {METHODS}, got {method!r}")
    if method == "sample" and rng is None:
        raise ValueError("generate: method='sample' needs an rng key")
    return _generate(params, jnp.asarray(encoder_input_tokens, jnp.int32),
                     rng if rng is not None else jax.random.PRNGKey(0), jnp.float32(alpha), model=model,
                     max_decode_length=max_decode_length, method=method, num_beams=num_beams,
                     temperature=float(temperature), top_k=top_k, eos_id=eos_id)
