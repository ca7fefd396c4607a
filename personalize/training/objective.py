"""The training objective as token sums, so microbatches and data shards add up before one normalisation.

The per-token loss (cross-entropy + z-loss) is `personalize.models.t5.loss.cross_entropy_loss`; this module
only decides what it is divided by: `loss_normalizing_factor` when given (T5X's public checkpoints were trained
with 233,472 = 2,048 x 114), otherwise the number of target tokens in the whole batch, not the microbatch.
"""

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from personalize.models.t5.loss import cross_entropy_loss

PRETRAINING_LOSS_NORMALIZING_FACTOR = 233_472


def loss_weights(batch: Mapping[str, jax.Array]) -> jax.Array:
    """The converter's `decoder_loss_weights`, or every non-padding target token."""
    if "decoder_loss_weights" in batch:
        return batch["decoder_loss_weights"].astype(jnp.float32)
    return (batch["decoder_target_tokens"] > 0).astype(jnp.float32)


def normalizer(*, weights: jax.Array, loss_normalizing_factor: float | None) -> jax.Array:
    """What the summed loss of a whole batch is divided by."""
    if loss_normalizing_factor is None:
        return jnp.maximum(jnp.sum(weights), 1.0)
    if loss_normalizing_factor <= 0:
        raise ValueError(f"loss_normalizing_factor must be positive or None, got {loss_normalizing_factor}")
    return jnp.asarray(loss_normalizing_factor, jnp.float32)


def token_sums(
    *, logits: jax.Array, targets: jax.Array, weights: jax.Array, z_loss: float, norm: jax.Array | float = 1.0
) -> dict[str, jax.Array]:
    """`loss` (cross-entropy + z-loss) and `z_loss` summed and divided by `norm`; `correct`, `tokens` summed."""
    terms = cross_entropy_loss(
        logits=logits, targets=targets, weights=weights, z_loss=z_loss, loss_normalizing_factor=norm
    )
    # [batch, length, vocab] -> [batch, length]
    correct = (jnp.argmax(logits, axis=-1) == targets).astype(jnp.float32)
    return {
        "loss": terms.loss,
        "z_loss": terms.z_loss,
        "correct": jnp.sum(correct * weights),
        "tokens": terms.num_tokens,
    }
