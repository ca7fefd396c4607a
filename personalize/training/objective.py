"""The training objective as token sums, so microbatches and data shards add up before one normalisation.

Per target token: cross-entropy plus z-loss (z_loss * logsumexp(logits)**2, which keeps the softmax normaliser
near 1 in bfloat16). The summed loss is divided by `loss_normalizing_factor` when given (T5X's public checkpoints
were trained with 233,472 = 2,048 x 114), otherwise by the number of target tokens in the whole batch.
"""

from collections.abc import Mapping

import jax
import jax.numpy as jnp

PRETRAINING_LOSS_NORMALIZING_FACTOR = 233_472


def loss_weights(batch: Mapping[str, jax.Array]) -> jax.Array:
    """The converter's `decoder_loss_weights`, or every non-padding target token."""
    if "decoder_loss_weights" in batch:
        return batch["decoder_loss_weights"].astype(jnp.float32)
    return (batch["decoder_target_tokens"] > 0).astype(jnp.float32)


def token_sums(*, logits: jax.Array, targets: jax.Array, weights: jax.Array, z_loss: float) -> dict[str, jax.Array]:
    """Sums over the weighted target tokens: `loss` (cross-entropy + z-loss), `z_loss`, `correct`, `tokens`."""
    # [batch, length, vocab] -> [batch, length]
    logits = logits.astype(jnp.float32)
    log_z = jax.nn.logsumexp(logits, axis=-1)
    target_logit = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    cross_entropy = log_z - target_logit
    token_z_loss = z_loss * jnp.square(log_z)
    correct = (jnp.argmax(logits, axis=-1) == targets).astype(jnp.float32)
    return {
        "loss": jnp.sum((cross_entropy + token_z_loss) * weights),
        "z_loss": jnp.sum(token_z_loss * weights),
        "correct": jnp.sum(correct * weights),
        "tokens": jnp.sum(weights),
    }


def normalizer(*, weights: jax.Array, loss_normalizing_factor: float | None) -> jax.Array:
    """What the summed loss of a whole batch is divided by."""
    if loss_normalizing_factor is None:
        return jnp.maximum(jnp.sum(weights), 1.0)
    if loss_normalizing_factor <= 0:
        raise ValueError(f"loss_normalizing_factor must be positive or None, got {loss_normalizing_factor}")
    return jnp.asarray(loss_normalizing_factor, jnp.float32)
