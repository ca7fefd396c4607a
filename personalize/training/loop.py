"""The train loop and the evaluation pass over a split; the steps themselves are in steps.py."""

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from personalize.training import checkpoints
from personalize.training.early_stopping import BestCheckpoint
from personalize.training.metrics_log import MetricsLog, Progress
from personalize.training.state import TrainState

HostBatch = Mapping[str, np.ndarray]


def evaluate_batches(
    *,
    eval_step: Callable[[Any, Mapping[str, jax.Array]], dict[str, jax.Array]],
    params: Any,
    batches: Iterable[HostBatch],
    to_global: Callable[[HostBatch], dict[str, jax.Array]],
) -> dict[str, float]:
    """Token sums over every batch, then per-token means: `loss` (with z-loss), `z_loss`, `cross_entropy`, `accuracy`."""
    totals: dict[str, float] = {}
    for batch in batches:
        sums = jax.device_get(eval_step(params, to_global(batch)))
        for name, value in sums.items():
            totals[name] = totals.get(name, 0.0) + float(value)
    if not totals:
        raise ValueError("the evaluation split produced no batches")
    tokens = max(totals["tokens"], 1.0)
    return {
        "loss": totals["loss"] / tokens,
        "z_loss": totals["z_loss"] / tokens,
        "cross_entropy": (totals["loss"] - totals["z_loss"]) / tokens,
        "accuracy": totals["correct"] / tokens,
        "tokens": totals["tokens"],
    }


def _summarise(pending: list[dict[str, jax.Array]], *, since: float, examples: int) -> dict[str, float]:
    fetched = jax.device_get(pending)  # waits for the steps to finish, so the time below is compute time
    seconds = max(time.perf_counter() - since, 1e-9)
    last = {name: float(value) for name, value in fetched[-1].items()}
    tokens = sum(float(m["tokens"]) for m in fetched)
    means = {name: float(np.mean([m[name] for m in fetched])) for name in ("loss", "z_loss", "cross_entropy", "accuracy")}
    return {
        **means,
        "learning_rate": last["learning_rate"],
        "grad_norm": last["grad_norm"],
        "tokens_per_second": tokens / seconds,
        "examples_per_second": examples / seconds,
    }


def train_loop(
    *,
    state: TrainState,
    train_step: Callable[[TrainState, Mapping[str, jax.Array], jax.Array], tuple[TrainState, dict]],
    batches: Iterator[HostBatch],
    to_global: Callable[[HostBatch], dict[str, jax.Array]],
    dropout_key: jax.Array,
    final_step: int,
    batches_consumed: int,
    log: MetricsLog,
    log_period: int,
    manager: ocp.CheckpointManager | None = None,
    checkpoint_period: int = 1000,
    evaluate: Callable[[Any], dict[str, float]] | None = None,
    eval_period: int | None = None,
    best: BestCheckpoint | None = None,
) -> tuple[TrainState, int]:
    """Train until `state.step == final_step`, the data ends, or `best` says validation stopped improving;
    returns (state, batches consumed so far).

    A checkpoint (with the data position) is saved every `checkpoint_period` steps and at the last step, so a
    restart continues exactly where the last checkpoint stopped. `best` (early stopping) sees every validation
    evaluation and keeps the best state in a checkpoint of its own.
    """
    if checkpoint_period < 1:
        raise ValueError(f"checkpoint_period must be >= 1, got {checkpoint_period}")
    if best is not None and (evaluate is None or not eval_period):
        raise ValueError("early stopping needs validation: give evaluate and eval_period")
    step = int(jax.device_get(state.step))
    if best is not None and best.stopped:
        log.message(f"validation stopped improving at step {best.record.stopped_at} (best step "
                    f"{best.record.best_step}); not training further")
        return state, batches_consumed
    progress = Progress(final_step=final_step)
    pending: list[dict[str, jax.Array]] = []
    examples = 0
    window_start = time.perf_counter()
    while step < final_step:
        try:
            batch = next(batches)
        except StopIteration:
            log.message(f"training data ended after {batches_consumed} batches, at step {step}")
            break
        batches_consumed += 1
        examples += len(next(iter(batch.values()))) * jax.process_count()
        state, metrics = train_step(state, to_global(batch), dropout_key)
        step += 1
        pending.append(metrics)
        if step % log_period == 0 or step == final_step:
            log.write(
                step=step,
                split="train",
                metrics=_summarise(pending, since=window_start, examples=examples),
                note=progress.note(step=step),
            )
            pending, examples, window_start = [], 0, time.perf_counter()
        if manager is not None and step % checkpoint_period == 0:
            checkpoints.save(manager=manager, state=state, batches_consumed=batches_consumed)
        if evaluate is not None and eval_period and step % eval_period == 0:
            metrics = evaluate(state.params)
            log.write(step=step, split="validation", metrics=metrics)
            if best is not None and best.observe(state=state, step=step, metrics=metrics,
                                                 batches_consumed=batches_consumed):
                log.message(f"validation {best.rule.metric} has not improved for {best.rule.patience} evaluations: "
                            f"stopping at step {step}, best step {best.record.best_step} "
                            f"({best.rule.metric}={best.record.best_value:.4g})")
                break
    if pending:
        log.write(step=step, split="train", metrics=_summarise(pending, since=window_start, examples=examples))
    if manager is not None:
        checkpoints.save(manager=manager, state=state, batches_consumed=batches_consumed)
        manager.wait_until_finished()
    if evaluate is not None and eval_period and step % eval_period:
        metrics = evaluate(state.params)
        log.write(step=step, split="validation", metrics=metrics)
        if best is not None:
            best.observe(state=state, step=step, metrics=metrics, batches_consumed=batches_consumed)
    return state, batches_consumed
