"""Token-level cross-entropy for the generator and the auxiliary seq2seq models, with T5X's z-loss.

The z-loss term z_loss * logsumexp(logits)**2 keeps the softmax normaliser near 1, which keeps bfloat16 logits stable.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class LossTerms(NamedTuple):
    """The loss to minimise and its parts; all are already divided by the same normaliser."""

    loss: jax.Array  # cross_entropy + z_loss
    cross_entropy: jax.Array
    z_loss: jax.Array
    num_tokens: jax.Array  # sum of the weights (the number of target tokens when weights are target != 0)


def cross_entropy_loss(*, logits: jax.Array, targets: jax.Array, weights: jax.Array | None = None,
                       z_loss: float = 1e-4, label_smoothing: float = 0.0,
                       loss_normalizing_factor: float | None = None) -> LossTerms:
    """Weighted cross-entropy of `logits` [batch, length, vocab] against integer `targets` [batch, length].

    weights: defaults to targets != 0 (padding does not count).
    label_smoothing: the target distribution puts 1 - label_smoothing on the target and spreads the rest evenly
      over the other ids; the minimum achievable value (its entropy) is subtracted, so a perfect model scores 0.
    loss_normalizing_factor: None divides the summed loss by the number of weighted tokens; a number (T5X uses
      233472 for the public checkpoints' finetuning) divides by that constant instead, so that every token weighs
      the same whatever the batch's padding.
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits {logits.shape} and targets {targets.shape} disagree on [batch, length]")
    logits = logits.astype(jnp.float32)
    vocab_size = logits.shape[-1]
    if weights is None:
        weights = (targets != 0).astype(jnp.float32)
    weights = weights.astype(jnp.float32)

    log_z = jax.nn.logsumexp(logits, axis=-1)
    log_probs = logits - log_z[..., None]
    target_log_probs = jnp.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    if label_smoothing > 0.0:
        confidence = 1.0 - label_smoothing
        off_value = label_smoothing / (vocab_size - 1)
        other_log_probs = jnp.sum(log_probs, axis=-1) - target_log_probs
        cross_entropy = -(confidence * target_log_probs + off_value * other_log_probs)
        entropy = -(confidence * jnp.log(confidence) + (vocab_size - 1) * off_value * jnp.log(off_value + 1e-20))
        cross_entropy = cross_entropy - entropy
    else:
        cross_entropy = -target_log_probs
    z_term = z_loss * jnp.square(log_z)

    num_tokens = jnp.sum(weights)
    # A batch without target tokens contributes 0, not NaN.
    normaliser = (jnp.maximum(num_tokens, 1.0) if loss_normalizing_factor is None
                  else jnp.float32(loss_normalizing_factor))
    total_cross_entropy = jnp.sum(cross_entropy * weights) / normaliser
    total_z_loss = jnp.sum(z_term * weights) / normaliser
    return LossTerms(loss=total_cross_entropy + total_z_loss, cross_entropy=total_cross_entropy,
                     z_loss=total_z_loss, num_tokens=num_tokens)
