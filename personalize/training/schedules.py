"""Learning-rate schedules, as functions of the number of completed optimizer updates (`step`, from 0).

The first update uses step 0, so with warm-up it moves nothing: that is T5X's convention too.
"""

from collections.abc import Callable

import jax.numpy as jnp

Schedule = Callable[[jnp.ndarray], jnp.ndarray]


def _check(*, base_learning_rate: float, warmup_steps: int) -> None:
    if base_learning_rate <= 0:
        raise ValueError(f"base_learning_rate must be positive, got {base_learning_rate}")
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")


def constant_with_warmup(*, base_learning_rate: float = 1e-3, warmup_steps: int = 1000) -> Schedule:
    """lr(step) = base * min(step / warmup_steps, 1); T5X's fine-tuning default (0.001, 1,000 steps)."""
    _check(base_learning_rate=base_learning_rate, warmup_steps=warmup_steps)

    def schedule(step: jnp.ndarray) -> jnp.ndarray:
        step = jnp.asarray(step, jnp.float32)
        warmup = jnp.minimum(step / warmup_steps, 1.0) if warmup_steps else 1.0
        return base_learning_rate * warmup

    return schedule


def warmup_rsqrt_decay(*, base_learning_rate: float = 1e-3, warmup_steps: int = 1000) -> Schedule:
    """The paper's schedule: linear warm-up, then square-root-normalized decay.

    lr(step) = base * min(step / W, 1) * sqrt(W / max(step, W)), W = warmup_steps:
    base * step / W while step <= W, then base * sqrt(W / step) (continuous at W, halves by step 4W).
    """
    _check(base_learning_rate=base_learning_rate, warmup_steps=warmup_steps)
    if warmup_steps == 0:
        raise ValueError("warmup_rsqrt_decay needs warmup_steps > 0: the decay is normalized by it")

    def schedule(step: jnp.ndarray) -> jnp.ndarray:
        step = jnp.asarray(step, jnp.float32)
        warmup = jnp.minimum(step / warmup_steps, 1.0)
        decay = jnp.sqrt(warmup_steps / jnp.maximum(step, float(warmup_steps)))
        return base_learning_rate * warmup * decay

    return schedule
