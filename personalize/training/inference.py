"""The `infer` run: decode a split with a saved checkpoint and write the predictions as JSON lines."""

import importlib
import json
import pathlib
from collections.abc import Iterable, Mapping
from typing import Any

import flax.linen as nn
import jax
import numpy as np

from personalize.decoding.generate import generate
from personalize.decoding.predict_task import predict_split
from personalize.partitioning.partitioner import Partitioner
from personalize.partitioning.shardings import data_shard_of_process, partitioning_context
from personalize.training import checkpoints
from personalize.training.data import SeqioBatches, iterate_batches
from personalize.training.evaluation import abstract_params
from personalize.training.finetune import CHECKPOINT_DIR


def _ids(row: np.ndarray) -> list[int]:
    row = [int(t) for t in row if t != 0]
    return row[: row.index(1)] if 1 in row else row


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
    iterables (tests): token ids of inputs, targets and prediction.

    Single-process only: every process would write its own shard of the predictions to the same file.
    """
    if jax.process_count() > 1:
        raise NotImplementedError("infer runs on one process; split the data and run one infer per host instead")
    directory = pathlib.Path(model_dir)
    abstract, _ = abstract_params(model=model, task_feature_lengths=task_feature_lengths, partitioner=partitioner)
    manager = checkpoints.open_manager(directory=directory / CHECKPOINT_DIR, keep=None)
    try:
        params, step = checkpoints.restore_params(manager=manager, abstract_params=abstract, step=checkpoint_step)
    finally:
        manager.close()
    output = directory / "inference" / f"{output_name}-{step}.jsonl"
    output.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(infer_data, SeqioBatches):
        if infer_data.mixture_or_task_module:
            importlib.import_module(infer_data.mixture_or_task_module)
        predict_split(task_name=infer_data.mixture_or_task_name, split=infer_data.split, model=model, params=params,
                      partitioner=partitioner, task_feature_lengths=task_feature_lengths, output_path=str(output),
                      batch_size=infer_data.batch_size, method=method, num_beams=num_beams, alpha=alpha)
        return output
    with output.open("w", encoding="utf-8") as handle, partitioning_context(
        mesh=partitioner.mesh, rules=partitioner.rules
    ):
        for batch in iterate_batches(infer_data, shard=data_shard_of_process(mesh=partitioner.mesh)):
            decoded = generate(
                model=model,
                params=params,
                encoder_input_tokens=batch["encoder_input_tokens"],
                max_decode_length=int(task_feature_lengths["targets"]),
                method=method,
                num_beams=num_beams,
                alpha=alpha,
            )
            best = np.asarray(jax.device_get(decoded.sequences))[:, 0]
            for inputs, targets, prediction in zip(
                batch["encoder_input_tokens"], batch["decoder_target_tokens"], best, strict=True
            ):
                record = {"inputs": _ids(inputs), "targets": _ids(targets), "prediction": _ids(prediction)}
                handle.write(json.dumps(record) + "\n")
    return output
