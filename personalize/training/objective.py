"""The training objective: weighted token sums divided by T5X's `loss_normalizing_factor`.

The per-token loss (cross-entropy with optional label smoothing, plus z-loss) is
`personalize.models.t5.loss.cross_entropy_loss`; this module decides the weights and what the weighted sum is divided
by, as T5X's `get_loss_normalizing_factor_and_weights` does, per (micro)batch:

- None: nothing, the loss is a sum over target tokens (T5X's default; the optimizer is nearly scale invariant);
- a number: that constant (T5X's public checkpoints were trained with 233,472 = 2,048 x 114);
- 'NUM_REAL_TARGET_TOKENS': the sum of the loss weights (a per-token mean);
- 'NUM_TOTAL_TARGET_TOKENS': batch x target length, padding included;
- 'AVERAGE_PER_SEQUENCE': each sequence (each packed segment) first averaged over its own tokens, then the mean over
  sequences, so every example weighs the same whatever its length.

Where T5X would divide by zero (a batch without target tokens) the divisor is 1 instead: the sum is 0 then.
"""

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from personalize.models.t5.loss import cross_entropy_loss

PRETRAINING_LOSS_NORMALIZING_FACTOR = 233_472
SPECIAL_LOSS_NORMALIZING_FACTORS = ("NUM_REAL_TARGET_TOKENS", "NUM_TOTAL_TARGET_TOKENS", "AVERAGE_PER_SEQUENCE")
LossNormalizingFactor = float | int | str | None


def check_loss_normalizing_factor(value: LossNormalizingFactor) -> LossNormalizingFactor:
    """The factor as the step uses it (special modes upper-cased, as T5X accepts any case); fails on anything else."""
    if value is None:
        return None
    if isinstance(value, str):
        if value.upper() not in SPECIAL_LOSS_NORMALIZING_FACTORS:
            raise ValueError(
                f"loss_normalizing_factor {value!r} is not one of {SPECIAL_LOSS_NORMALIZING_FACTORS}, a number or None"
            )
        return value.upper()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"loss_normalizing_factor must be a positive number, None or a T5X mode name, got {value!r}")
    return float(value)


def loss_weights(batch: Mapping[str, jax.Array]) -> jax.Array:
    """The converter's `decoder_loss_weights`, or every non-padding target token."""
    if "decoder_loss_weights" in batch:
        return batch["decoder_loss_weights"].astype(jnp.float32)
    return (batch["decoder_target_tokens"] > 0).astype(jnp.float32)


def _per_sequence_token_counts(batch: Mapping[str, jax.Array], weights: jax.Array) -> jax.Array:
    """[batch, length]: the summed weight of the sequence (packed segment) each token belongs to."""
    if "decoder_segment_ids" not in batch:
        return jnp.sum(weights, axis=-1, keepdims=True) * jnp.ones_like(weights)
    segments = batch["decoder_segment_ids"].astype(jnp.int32)
    length = segments.shape[-1]

    def row(row_weights: jax.Array, row_segments: jax.Array) -> jax.Array:
        totals = jax.ops.segment_sum(row_weights, row_segments, num_segments=length + 1)
        return totals[row_segments]

    return jax.vmap(row)(weights, segments)


def factor_and_weights(
    *, batch: Mapping[str, jax.Array], loss_normalizing_factor: LossNormalizingFactor
) -> tuple[jax.Array, jax.Array]:
    """(what the weighted loss sum is divided by, the per-token weights of the loss) for one (micro)batch."""
    weights = loss_weights(batch)
    mode = check_loss_normalizing_factor(loss_normalizing_factor)
    if mode is None:
        return jnp.ones((), jnp.float32), weights
    if isinstance(mode, float):
        return jnp.asarray(mode, jnp.float32), weights
    if mode == "NUM_REAL_TARGET_TOKENS":
        factor = jnp.sum(weights)
    elif mode == "NUM_TOTAL_TARGET_TOKENS":
        factor = jnp.asarray(weights.size, jnp.float32)
    else:  # AVERAGE_PER_SEQUENCE
        counts = _per_sequence_token_counts(batch, weights)
        weights = jnp.where(counts > 0, weights / jnp.where(counts > 0, counts, 1.0), 0.0)
        factor = jnp.sum(weights)
    return jnp.where(factor > 0, factor, 1.0), weights


def token_sums(
    *,
    logits: jax.Array,
    targets: jax.Array,
    weights: jax.Array,
    z_loss: float,
    label_smoothing: float = 0.0,
) -> dict[str, jax.Array]:
    """Weighted sums over target tokens: `loss` (cross-entropy + z-loss), `z_loss`, `correct`; `tokens` (weights)."""
    terms = cross_entropy_loss(
        logits=logits,
        targets=targets,
        weights=weights,
        z_loss=z_loss,
        label_smoothing=label_smoothing,
        loss_normalizing_factor=1.0,
    )
    # [batch, length, vocab] -> [batch, length]
    correct = (jnp.argmax(logits, axis=-1) == targets).astype(jnp.float32)
    return {
        "loss": terms.loss,
        "z_loss": terms.z_loss,
        "correct": jnp.sum(correct * weights),
        "tokens": terms.num_tokens,
    }


def objective(
    *,
    logits: jax.Array,
    batch: Mapping[str, jax.Array],
    z_loss: float,
    label_smoothing: float,
    loss_normalizing_factor: LossNormalizingFactor,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """(the loss to differentiate, additive metrics) of one (micro)batch.

    The metrics add up over microbatches: `loss` and `z_loss` normalised as the objective is, and the per-token
    sums `token_loss` (cross-entropy + z-loss), `token_z_loss`, `correct` and `tokens` over the real target tokens.
    """
    targets = batch["decoder_target_tokens"]
    factor, weights = factor_and_weights(batch=batch, loss_normalizing_factor=loss_normalizing_factor)
    weighted = token_sums(
        logits=logits, targets=targets, weights=weights, z_loss=z_loss, label_smoothing=label_smoothing
    )
    per_token = weighted
    if check_loss_normalizing_factor(loss_normalizing_factor) == "AVERAGE_PER_SEQUENCE":  # reweighted tokens
        per_token = token_sums(
            logits=logits, targets=targets, weights=loss_weights(batch), z_loss=z_loss, label_smoothing=label_smoothing
        )
    loss = weighted["loss"] / factor
    return loss, {
        "loss": loss,
        "z_loss": weighted["z_loss"] / factor,
        "token_loss": per_token["loss"],
        "token_z_loss": per_token["z_loss"],
        "correct": per_token["correct"],
        "tokens": per_token["tokens"],
    }
