"""T5X's `score` mode: the log-likelihood of given targets under a model, by teacher forcing.

As T5X's EncoderDecoderModel.score_batch: the sum over a target's pieces (its EOS included) of log p(piece | inputs,
earlier pieces), with the decoder input the target shifted right. Beam search ranks finished sequences by this sum
divided by T5X's brevity penalty ((5 + length) / 6) ** alpha, so `penalised` reproduces the beam's own ranking of
any two candidate outputs, e.g. a long continuation against a two-piece label.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

EOS_ID = 1


@functools.partial(jax.jit, static_argnames=("model",))
def _sequence_sums(params: Any, encoder_input_tokens: jax.Array, decoder_target_tokens: jax.Array, *,
                   model: Any) -> jax.Array:
    decoder_input_tokens = jnp.pad(decoder_target_tokens[:, :-1], ((0, 0), (1, 0)))
    logits = model.apply({"params": params}, encoder_input_tokens, decoder_input_tokens, decoder_target_tokens,
                         enable_dropout=False)
    log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    picked = jnp.take_along_axis(log_probs, decoder_target_tokens[..., None], axis=-1)[..., 0]
    return jnp.sum(jnp.where(decoder_target_tokens > 0, picked, 0.0), axis=-1)


def with_eos(ids: Sequence[int], *, length: int) -> list[int]:
    """A target as the decoder is trained on it: cut to `length` pieces, EOS last when it fits (T5X's append_eos)."""
    ids = [int(i) for i in ids if int(i) != 0]
    if EOS_ID in ids:
        ids = ids[: ids.index(EOS_ID)]
    return (ids + [EOS_ID])[:length]


def _padded(rows: Sequence[Sequence[int]], *, length: int) -> np.ndarray:
    batch = np.zeros((len(rows), length), np.int32)
    for index, row in enumerate(rows):
        row = list(row)[:length]
        batch[index, : len(row)] = row
    return batch


def sequence_log_likelihoods(*, model: Any, params: Any, inputs: Sequence[Sequence[int]],
                             targets: Sequence[Sequence[int]], inputs_length: int, targets_length: int,
                             batch_size: int = 16) -> np.ndarray:
    """log p(target | inputs) per pair (natural log), each target with EOS (`with_eos`); single-process."""
    if len(inputs) != len(targets):
        raise ValueError(f"{len(inputs)} inputs but {len(targets)} targets: score pairs them one to one")
    sums = []
    for start in range(0, len(inputs), batch_size):
        chunk_inputs = list(inputs[start : start + batch_size])
        chunk_targets = [with_eos(t, length=targets_length) for t in targets[start : start + batch_size]]
        rows = len(chunk_inputs)
        pad = batch_size - rows  # one compiled shape for every batch
        encoder = _padded(chunk_inputs + [[EOS_ID]] * pad, length=inputs_length)
        decoder = _padded(chunk_targets + [[EOS_ID]] * pad, length=targets_length)
        sums.append(np.asarray(_sequence_sums(params, encoder, decoder, model=model))[:rows])
    return np.concatenate(sums) if sums else np.zeros((0,), np.float32)


def penalised(*, log_likelihood: np.ndarray, pieces: np.ndarray, alpha: float) -> np.ndarray:
    """Beam search's ranking score of finished sequences: log-likelihood / ((5 + pieces) / 6) ** alpha, where
    `pieces` counts the EOS."""
    return np.asarray(log_likelihood) / np.power((5.0 + np.asarray(pieces, np.float64)) / 6.0, alpha)
