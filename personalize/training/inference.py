"""The `infer` run: decode a split with a saved checkpoint and write the predictions as JSON lines."""

import importlib
import json
import pathlib
from collections.abc import Iterable, Mapping
from typing import Any

import flax.linen as nn
import jax
import numpy as np
from jax.experimental import multihost_utils

from personalize.decoding.predict_task import decode_rows, predict_split, prediction_ids
from personalize.partitioning.partitioner import Partitioner
from personalize.training import checkpoints
from personalize.training.data import SeqioBatches
from personalize.training.evaluation import abstract_params
from personalize.training.finetune import CHECKPOINT_DIR


def infer(
    *,
    model_dir: str,
    model: nn.Module,
    partitioner: Partitioner,
    infer_data: SeqioBatches | Iterable[Mapping[str, Any]],
    task_feature_lengths: Mapping[str, int],
    output_name: str = "predictions",
    checkpoint_step: int | None = None,
    method: str = "beam",
    num_beams: int = 4,
    alpha: float = 0.6,
) -> pathlib.Path:
    """Writes MODEL_DIR/inference/<output_name>-<step>.jsonl, one line per example.

    SeqIO data: the example id, the decoded prediction, the untruncated target and the inputs (text). Plain batch
    iterables (tests): token ids of inputs, targets and prediction; every process passes all batches.

    With several processes (jax.distributed), each data-parallel group decodes its share of every batch and
    process 0 writes the file; every process returns once it is written.
    """
    directory = pathlib.Path(model_dir)
    abstract, _ = abstract_params(model=model, task_feature_lengths=task_feature_lengths, partitioner=partitioner)
    manager = checkpoints.open_manager(directory=directory / CHECKPOINT_DIR, keep=None)
    try:
        params, step = checkpoints.restore_params(manager=manager, abstract_params=abstract, step=checkpoint_step)
    finally:
        manager.close()
    output = directory / "inference" / f"{output_name}-{step}.jsonl"
    if jax.process_index() == 0:
        output.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(infer_data, SeqioBatches):
        if infer_data.mixture_or_task_module:
            importlib.import_module(infer_data.mixture_or_task_module)
        predict_split(task_name=infer_data.mixture_or_task_name, split=infer_data.split, model=model, params=params,
                      partitioner=partitioner, task_feature_lengths=task_feature_lengths, output_path=str(output),
                      batch_size=infer_data.batch_size, method=method, num_beams=num_beams, alpha=alpha)
        return output
    batches = list(infer_data)
    if not batches:
        raise ValueError("infer_data produced no batches")
    rows = [row for batch in batches for row in np.asarray(batch["encoder_input_tokens"])]
    targets = [row for batch in batches for row in np.asarray(batch["decoder_target_tokens"])]
    predictions = decode_rows(rows=rows, model=model, params=params, partitioner=partitioner,
                              task_feature_lengths=task_feature_lengths,
                              batch_size=len(batches[0]["encoder_input_tokens"]), method=method,
                              num_beams=num_beams, alpha=alpha)
    records = [{"inputs": prediction_ids(inputs), "targets": prediction_ids(target), "prediction": prediction}
               for inputs, target, prediction in zip(rows, targets, predictions, strict=True)]
    if jax.process_index() == 0:
        with output.open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(record) + "\n" for record in records)
    multihost_utils.sync_global_devices(f"predictions written to {output}")
    return output
