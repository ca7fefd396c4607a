"""The one training recipe of every model the experiment trains (rows, stage models, pre-training).

The paper's: Adafactor, base learning rate 0.001, linear warm-up, then square-root-normalized decay
(`schedules.warmup_rsqrt_decay`, the schedule gin/runs/finetune.gin binds for `personalize train`), trained with
`finetune.train` until validation converges: validation loss every `eval_period` steps, the best step kept, a stop
after `patience` evaluations without improvement. `train_steps` is the limit; the chosen step is reported.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping

from personalize.training.early_stopping import read_best_record


@dataclasses.dataclass(frozen=True)
class TrainedModel:
    """The parameters to use (the best validation step's, or the last step's without validation) and their step."""

    params: Any
    chosen_step: int
    last_step: int
    stopped_early: bool


def _abstract_params(*, model: Any, lengths: Mapping[str, int], partitioner: Any) -> Any:
    from personalize.training.evaluation import abstract_params

    abstract, _ = abstract_params(model=model, task_feature_lengths=lengths, partitioner=partitioner)
    return abstract


def finished_model(*, model_dir: str, model: Any, lengths: Mapping[str, int], partitioner: Any,
                   train_steps: int) -> TrainedModel | None:
    """The chosen params of a model directory whose training finished (reached `train_steps`, or stopped on
    validation), or None when it has not finished (or never started)."""
    from personalize.training import checkpoints
    from personalize.training.early_stopping import restore_best_params
    from personalize.training.finetune import CHECKPOINT_DIR

    directory = os.path.join(model_dir, CHECKPOINT_DIR)
    if not os.path.isdir(directory):
        return None
    manager = checkpoints.open_manager(directory=directory, keep=None)
    try:
        last = manager.latest_step()
    finally:
        manager.close()
    record = read_best_record(model_dir)
    stopped = record is not None and record.get("stopped_at") is not None
    if last is None or (last < train_steps and not stopped):
        return None
    abstract = _abstract_params(model=model, lengths=lengths, partitioner=partitioner)
    if record is not None and record.get("best_step") is not None:
        params, step = restore_best_params(model_dir=model_dir, abstract_params=abstract)
    else:
        manager = checkpoints.open_manager(directory=directory, keep=None)
        try:
            params, step = checkpoints.restore_params(manager=manager, abstract_params=abstract, step=last)
        finally:
            manager.close()
    return TrainedModel(params=params, chosen_step=int(step), last_step=int(last), stopped_early=stopped)


def train_until_converged(
    *,
    task_name: str,
    model_dir: str,
    model: Any,
    lengths: Mapping[str, int],
    partitioner: Any,
    train_steps: int,
    batch_size: int,
    learning_rate: float = 0.001,
    warmup_steps: int = 1000,
    validation_task_name: str | None = None,
    eval_period: int | None = None,
    patience: int = 3,
    eval_batch_size: int | None = None,
    seed: int = 0,
    pretrained_params: Any = None,
) -> TrainedModel:
    """Trains `task_name` with the paper's recipe in `model_dir` (resuming there) and returns the chosen params.

    With `validation_task_name` (its 'validation' split), validation loss is measured every `eval_period` steps,
    the best state is kept and training stops after `patience` evaluations without improvement; without it the
    model trains to `train_steps` and the last step is chosen. A finished directory is not trained again.
    """
    import jax
    from flax.core import meta

    from personalize.training.adafactor import Adafactor
    from personalize.training.data import SeqioBatches
    from personalize.training.early_stopping import EarlyStopping
    from personalize.training.finetune import train
    from personalize.training.schedules import warmup_rsqrt_decay

    if train_steps < 1:
        raise ValueError(f"train_steps must be >= 1, got {train_steps}")
    if validation_task_name is not None and not eval_period:
        raise ValueError("validation_task_name is given but eval_period is not: set how often to evaluate")
    done = finished_model(model_dir=model_dir, model=model, lengths=lengths, partitioner=partitioner,
                          train_steps=train_steps)
    if done is not None:
        return done
    validation = None
    if validation_task_name is not None:
        validation = SeqioBatches(mixture_or_task_name=validation_task_name, task_feature_lengths=dict(lengths),
                                  split="validation", batch_size=eval_batch_size or batch_size, shuffle=False,
                                  pack=False, repeat=False)
    state = train(
        model_dir=model_dir,
        model=model,
        optimizer=Adafactor(learning_rate=warmup_rsqrt_decay(base_learning_rate=learning_rate,
                                                             warmup_steps=max(warmup_steps, 1))),
        partitioner=partitioner,
        train_data=SeqioBatches(mixture_or_task_name=task_name, task_feature_lengths=dict(lengths), split="train",
                                batch_size=batch_size, shuffle=True, seed=seed, pack=True),
        validation_data=validation,
        eval_period=eval_period if validation is not None else None,
        task_feature_lengths=dict(lengths),
        train_steps=train_steps,
        checkpoint_period=max(eval_period or train_steps // 2, 1),
        keep_checkpoints=1,
        log_period=max(min(eval_period or train_steps, train_steps) // 4, 1),
        random_seed=seed,
        pretrained_params=pretrained_params,
        early_stopping=EarlyStopping(patience=patience) if validation is not None else None,
        loss_normalizing_factor=None,  # T5X's (and `personalize train`'s): the loss summed over target tokens
    )
    last_step = int(jax.device_get(state.step))
    record = read_best_record(model_dir)
    if record is not None and record.get("best_step") is not None:
        from personalize.training.early_stopping import restore_best_params

        params, step = restore_best_params(
            model_dir=model_dir, abstract_params=_abstract_params(model=model, lengths=lengths, partitioner=partitioner))
        return TrainedModel(params=params, chosen_step=int(step), last_step=last_step,
                            stopped_early=record.get("stopped_at") is not None)
    return TrainedModel(params=meta.unbox(jax.device_get(state.params)), chosen_step=last_step, last_step=last_step,
                        stopped_early=False)
