"""One train step and one eval step, and their jit-compiled, sharded forms."""

import functools
from collections.abc import Callable, Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from jax.sharding import NamedSharding, PartitionSpec

from personalize.partitioning.axis_rules import LogicalAxisRules
from personalize.partitioning.shardings import BATCH_LOGICAL_AXES, batch_sharding, partitioning_context
from personalize.training.objective import (
    LossNormalizingFactor,
    check_loss_normalizing_factor,
    loss_weights,
    objective,
    token_sums,
)
from personalize.training.state import PartitionedOptimizer, TrainState

Batch = Mapping[str, jax.Array]
_OPTIONAL_FEATURES = (
    "encoder_segment_ids",
    "decoder_segment_ids",
    "encoder_positions",
    "decoder_positions",
)
_SUM_KEYS = ("loss", "z_loss", "token_loss", "token_z_loss", "correct", "tokens")


def logits_of(
    *, model: nn.Module, params: Any, batch: Batch, enable_dropout: bool, dropout_key: jax.Array | None = None
) -> jax.Array:
    """float32 logits [batch, length, vocab] of the teacher-forced decoder."""
    optional = {name: batch[name] for name in _OPTIONAL_FEATURES if name in batch}
    return model.apply(
        {"params": params},
        batch["encoder_input_tokens"],
        batch["decoder_input_tokens"],
        batch["decoder_target_tokens"],
        **optional,
        enable_dropout=enable_dropout,
        rngs={"dropout": dropout_key} if enable_dropout else None,
    )


def split_microbatches(batch: Batch, *, num_microbatches: int) -> dict[str, jax.Array]:
    """[batch, ...] -> [microbatch, batch / microbatch, ...]; microbatch i takes examples i, i + M, ...

    Strided rather than contiguous, so every microbatch keeps examples on every `data` shard.
    """
    size = next(iter(batch.values())).shape[0]
    if size % num_microbatches:
        raise ValueError(f"batch size {size} is not divisible by num_microbatches={num_microbatches}")

    def split(x: jax.Array) -> jax.Array:
        x = x.reshape((size // num_microbatches, num_microbatches) + x.shape[1:])
        return jnp.swapaxes(x, 0, 1)

    return {name: split(value) for name, value in batch.items()}


def _gradients(
    *,
    model: nn.Module,
    params: Any,
    batch: Batch,
    dropout_key: jax.Array,
    z_loss: float,
    label_smoothing: float,
    loss_normalizing_factor: LossNormalizingFactor,
) -> tuple[Any, dict[str, jax.Array]]:
    def loss_of(params: Any) -> tuple[jax.Array, dict[str, jax.Array]]:
        logits = logits_of(model=model, params=params, batch=batch, enable_dropout=True, dropout_key=dropout_key)
        return objective(
            logits=logits,
            batch=batch,
            z_loss=z_loss,
            label_smoothing=label_smoothing,
            loss_normalizing_factor=loss_normalizing_factor,
        )

    (_, sums), grads = jax.value_and_grad(loss_of, has_aux=True)(params)
    return grads, sums


def train_step(
    state: TrainState,
    batch: Batch,
    dropout_key: jax.Array,
    *,
    model: nn.Module,
    optimizer: PartitionedOptimizer,
    z_loss: float,
    label_smoothing: float,
    loss_normalizing_factor: LossNormalizingFactor,
    num_microbatches: int,
) -> tuple[TrainState, dict[str, jax.Array]]:
    """Gradients of each microbatch's normalised loss, summed (as T5X: the factor is per microbatch), then one update.

    Metrics: `loss` and `z_loss` are the objective (summed over microbatches, normalised as it is);
    `cross_entropy` is the per-token mean cross-entropy over the real target tokens, whatever the normalisation,
    comparable with the evaluation's.
    """
    step_key = jax.random.fold_in(dropout_key, state.step)
    gradients = functools.partial(
        _gradients,
        model=model,
        params=state.params,
        z_loss=z_loss,
        label_smoothing=label_smoothing,
        loss_normalizing_factor=loss_normalizing_factor,
    )
    if num_microbatches == 1:
        grads, sums = gradients(batch=batch, dropout_key=step_key)
    else:

        def accumulate(carry, inputs):
            index, micro = inputs
            micro = nn.with_logical_constraint(micro, BATCH_LOGICAL_AXES)
            grads, sums = gradients(batch=micro, dropout_key=jax.random.fold_in(step_key, index))
            return jax.tree.map(jnp.add, carry, (grads, sums)), None

        zeros = (
            jax.tree.map(jnp.zeros_like, state.params),
            {name: jnp.zeros((), jnp.float32) for name in _SUM_KEYS},
        )
        micro = split_microbatches(batch, num_microbatches=num_microbatches)
        (grads, sums), _ = jax.lax.scan(accumulate, zeros, (jnp.arange(num_microbatches), micro))
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    new_state = TrainState(
        step=state.step + 1, params=optax.apply_updates(state.params, updates), opt_state=opt_state
    )
    tokens = jnp.maximum(sums["tokens"], 1.0)
    metrics = {
        "loss": sums["loss"],
        "z_loss": sums["z_loss"],
        "cross_entropy": (sums["token_loss"] - sums["token_z_loss"]) / tokens,
        "accuracy": sums["correct"] / tokens,
        "tokens": sums["tokens"],
        "learning_rate": optimizer.learning_rate_at(state.step),
        "grad_norm": optax.tree.norm(grads),
    }
    return new_state, metrics


def eval_step(
    params: Any, batch: Batch, *, model: nn.Module, z_loss: float, label_smoothing: float = 0.0
) -> dict[str, jax.Array]:
    """Teacher-forced token sums (no dropout); the caller adds them over the split, then divides."""
    logits = logits_of(model=model, params=params, batch=batch, enable_dropout=False)
    return token_sums(
        logits=logits,
        targets=batch["decoder_target_tokens"],
        weights=loss_weights(batch),
        z_loss=z_loss,
        label_smoothing=label_smoothing,
    )


def compile_train_step(
    *,
    model: nn.Module,
    optimizer: PartitionedOptimizer,
    shardings: TrainState,
    mesh: jax.sharding.Mesh,
    rules: LogicalAxisRules,
    z_loss: float = 1e-4,
    label_smoothing: float = 0.0,
    loss_normalizing_factor: LossNormalizingFactor = None,
    num_microbatches: int = 1,
) -> Callable[[TrainState, Batch, jax.Array], tuple[TrainState, dict[str, jax.Array]]]:
    """`train_step` under jit with the state's shardings in and out (the old state's buffers are donated).

    `loss_normalizing_factor` as T5X's (see objective.py): None sums the loss over target tokens.
    """
    if num_microbatches < 1:
        raise ValueError(f"num_microbatches must be >= 1, got {num_microbatches}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
    loss_normalizing_factor = check_loss_normalizing_factor(loss_normalizing_factor)
    replicated = NamedSharding(mesh, PartitionSpec())
    step = functools.partial(
        train_step,
        model=model,
        optimizer=optimizer,
        z_loss=z_loss,
        label_smoothing=label_smoothing,
        loss_normalizing_factor=loss_normalizing_factor,
        num_microbatches=num_microbatches,
    )
    jitted = jax.jit(
        step,
        in_shardings=(shardings, batch_sharding(mesh=mesh, rules=rules), replicated),
        out_shardings=(shardings, replicated),
        donate_argnums=(0,),
    )

    def run(state: TrainState, batch: Batch, dropout_key: jax.Array) -> tuple[TrainState, dict[str, jax.Array]]:
        with partitioning_context(mesh=mesh, rules=rules):
            return jitted(state, batch, dropout_key)

    def lower(state: Any, batch: Any, dropout_key: Any) -> jax.stages.Lowered:
        """The same step lowered for (abstract) arguments: `personalize compile` compiles it for a TPU slice."""
        with partitioning_context(mesh=mesh, rules=rules):
            return jitted.lower(state, batch, dropout_key)

    run.lower = lower
    return run


def compile_eval_step(
    *,
    model: nn.Module,
    params_shardings: Any,
    mesh: jax.sharding.Mesh,
    rules: LogicalAxisRules,
    z_loss: float = 1e-4,
    label_smoothing: float = 0.0,
) -> Callable[[Any, Batch], dict[str, jax.Array]]:
    """`eval_step` under jit with the params' shardings."""
    replicated = NamedSharding(mesh, PartitionSpec())
    jitted = jax.jit(
        functools.partial(eval_step, model=model, z_loss=z_loss, label_smoothing=label_smoothing),
        in_shardings=(params_shardings, batch_sharding(mesh=mesh, rules=rules)),
        out_shardings=replicated,
    )

    def run(params: Any, batch: Batch) -> dict[str, jax.Array]:
        with partitioning_context(mesh=mesh, rules=rules):
            return jitted(params, batch)

    return run
