"""The `eval` run: teacher-forced loss and token accuracy of a saved checkpoint on one split."""

import pathlib
from collections.abc import Iterable, Mapping
from typing import Any

import flax.linen as nn
import jax
from flax.core import meta

from personalize.partitioning.partitioner import Partitioner
from personalize.partitioning.shardings import (data_shard_of_process, global_batch, logical_param_specs,
                                                 mesh_shardings)
from personalize.training import checkpoints
from personalize.training.data import SeqioBatches, iterate_batches
from personalize.training.finetune import CHECKPOINT_DIR, METRICS_FILE, model_input_shapes
from personalize.training.loop import evaluate_batches
from personalize.training.metrics_log import MetricsLog
from personalize.training.summaries import SummaryWriter
from personalize.training.state import boxed_params
from personalize.training.steps import compile_eval_step


def abstract_params(
    *, model: nn.Module, task_feature_lengths: Mapping[str, int], partitioner: Partitioner
) -> tuple[Any, Any]:
    """(ShapeDtypeStructs carrying the shardings on this mesh, the shardings) of the model's params."""
    shapes = model_input_shapes(task_feature_lengths=task_feature_lengths, batch_size=1)
    boxed = jax.eval_shape(lambda rng: boxed_params(model=model, rng=rng, input_shapes=shapes), jax.random.key(0))
    shardings = mesh_shardings(
        logical_specs=logical_param_specs(boxed_params=boxed), mesh=partitioner.mesh, rules=partitioner.rules
    )
    abstract = jax.tree.map(
        lambda shape, sharding: jax.ShapeDtypeStruct(shape.shape, shape.dtype, sharding=sharding),
        meta.unbox(boxed),
        shardings,
    )
    return abstract, shardings


def evaluate(
    *,
    model_dir: str,
    model: nn.Module,
    partitioner: Partitioner,
    eval_data: SeqioBatches | Iterable[Mapping[str, Any]],
    task_feature_lengths: Mapping[str, int],
    checkpoint_step: int | None = None,
    z_loss: float = 1e-4,
) -> dict[str, float]:
    """Metrics of checkpoint `checkpoint_step` (default: latest) in MODEL_DIR, appended to MODEL_DIR/metrics.jsonl."""
    directory = pathlib.Path(model_dir)
    abstract, shardings = abstract_params(
        model=model, task_feature_lengths=task_feature_lengths, partitioner=partitioner
    )
    manager = checkpoints.open_manager(directory=directory / CHECKPOINT_DIR, keep=None)
    try:
        params, step = checkpoints.restore_params(manager=manager, abstract_params=abstract, step=checkpoint_step)
    finally:
        manager.close()
    mesh, rules = partitioner.mesh, partitioner.rules
    eval_fn = compile_eval_step(model=model, params_shardings=shardings, mesh=mesh, rules=rules, z_loss=z_loss)
    metrics = evaluate_batches(
        eval_step=eval_fn,
        params=params,
        batches=iterate_batches(eval_data, shard=data_shard_of_process(mesh=mesh)),
        to_global=lambda batch: global_batch(local_batch=batch, mesh=mesh, rules=rules),
    )
    log = MetricsLog(path=directory / METRICS_FILE, summaries=SummaryWriter(directory=directory))  # MODEL_DIR/eval/
    try:
        log.write(step=step, split="eval", metrics=metrics)
    finally:
        log.close()
    return metrics
