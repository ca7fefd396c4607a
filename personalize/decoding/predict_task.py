"""Decode one split of a SeqIO generation task and write predictions beside the real documents.

Keeps each example's id and the real, untruncated current document (what the paper's metrics compare against),
not the model's truncated targets; `personalize infer`, the experiment runner and the decoded evaluation during
training all decode through `decode_rows` here.

Multi-host: every process reads the whole split (cheap next to decoding) so that all agree on the order; each
data-parallel group decodes its share of every batch, and every process receives all predictions, so one process
can write them.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jax
import numpy as np


def _pad(rows: Sequence[np.ndarray], *, length: int, batch_size: int) -> np.ndarray:
    batch = np.zeros((batch_size, length), np.int32)
    for index, row in enumerate(rows):
        batch[index, : min(len(row), length)] = row[:length]
    return batch


def prediction_ids(tokens: np.ndarray) -> list[int]:
    """Token ids of a decoded row up to (without) EOS, padding dropped."""
    ids = [int(t) for t in tokens if t != 0]
    return ids[: ids.index(1)] if 1 in ids else ids


def _global_rows(batch_size: int, mesh: jax.sharding.Mesh) -> int:
    """Rows of one decoded batch: `batch_size` rounded up so that every device of the `data` axis gets as many."""
    data = mesh.shape["data"]
    return -(-batch_size // data) * data


def decode_rows(
    *,
    rows: Sequence[np.ndarray],
    model: Any,
    params: Any,
    partitioner: Any,
    task_feature_lengths: Mapping[str, int],
    batch_size: int,
    method: str = "beam",
    num_beams: int = 4,
    alpha: float = 0.6,
    label: str = "",
) -> Iterator[list[int]]:
    """The best prediction's token ids for each encoder input row, in order, on every process.

    Every process must pass the same rows: each data-parallel group (`data_shard_of_process`) decodes its slice
    of every batch, and the predictions are gathered to all processes.
    """
    from jax.experimental import multihost_utils

    from personalize.decoding.generate import generate
    from personalize.partitioning.shardings import data_shard_of_process, global_batch, partitioning_context

    mesh, rules = partitioner.mesh, partitioner.rules
    padded = _global_rows(batch_size, mesh)
    shard, num_shards = data_shard_of_process(mesh=mesh)
    per_shard = padded // num_shards
    started = time.perf_counter()
    done = 0
    with partitioning_context(mesh=mesh, rules=rules):
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            inputs = _pad(chunk, length=int(task_feature_lengths["inputs"]), batch_size=padded)
            local = {"encoder_input_tokens": inputs[shard * per_shard : (shard + 1) * per_shard]}
            decoded = generate(model=model, params=params,
                               encoder_input_tokens=global_batch(local_batch=local, mesh=mesh, rules=rules)[
                                   "encoder_input_tokens"],
                               max_decode_length=int(task_feature_lengths["targets"]), method=method,
                               num_beams=num_beams, alpha=alpha)
            best = np.asarray(multihost_utils.process_allgather(decoded.sequences, tiled=True))[:, 0]
            for tokens in best[: len(chunk)]:
                yield prediction_ids(tokens)
            done += len(chunk)
            if label and jax.process_index() == 0:
                rate = done / max(time.perf_counter() - started, 1e-9)
                eta = (len(rows) - done) / max(rate, 1e-9)
                print(f"  decoding {label}: {done}/{len(rows)} examples, {rate:.1f} examples/s, ETA {eta:.0f}s",
                      file=sys.stderr)


def task_examples(*, task_name: str, split: str, task_feature_lengths: Mapping[str, int],
                  max_examples: int | None = None) -> list[dict[str, Any]]:
    """The split's examples (numpy values, in the task's order), at most `max_examples` of them."""
    import seqio

    task = seqio.get_mixture_or_task(task_name)
    dataset = task.get_dataset(sequence_length=dict(task_feature_lengths), split=split, shuffle=False, num_epochs=1)
    if max_examples is not None:
        dataset = dataset.take(max_examples)
    return list(dataset.as_numpy_iterator())


def predicted_records(
    *,
    task_name: str,
    split: str,
    model: Any,
    params: Any,
    partitioner: Any,
    task_feature_lengths: Mapping[str, int],
    batch_size: int = 16,
    method: str = "beam",
    num_beams: int = 4,
    alpha: float = 0.6,
    max_examples: int | None = None,
) -> Iterator[tuple[dict[str, Any], str]]:
    """(example, decoded prediction text) for each example of the split, in order, on every process."""
    import seqio

    vocabulary = seqio.get_mixture_or_task(task_name).output_features["targets"].vocabulary
    examples = task_examples(task_name=task_name, split=split, task_feature_lengths=task_feature_lengths,
                             max_examples=max_examples)
    predictions = decode_rows(rows=[e["inputs"] for e in examples], model=model, params=params,
                              partitioner=partitioner, task_feature_lengths=task_feature_lengths,
                              batch_size=batch_size, method=method, num_beams=num_beams, alpha=alpha,
                              label=f"{task_name} {split}")
    for example, ids in zip(examples, predictions, strict=True):
        yield example, vocabulary.decode(ids)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def predict_split(
    *,
    task_name: str,
    split: str,
    model: Any,
    params: Any,
    partitioner: Any,
    task_feature_lengths: Mapping[str, int],
    output_path: str,
    batch_size: int = 16,
    method: str = "beam",
    num_beams: int = 4,
    alpha: float = 0.6,
    max_examples: int | None = None,
) -> int:
    """Writes JSONL records {example_id, prediction, target, inputs} (process 0 only); returns the number of examples."""
    from jax.experimental import multihost_utils

    records = predicted_records(task_name=task_name, split=split, model=model, params=params,
                                partitioner=partitioner, task_feature_lengths=task_feature_lengths,
                                batch_size=batch_size, method=method, num_beams=num_beams, alpha=alpha,
                                max_examples=max_examples)
    written = 0
    if jax.process_index() == 0:
        with open(output_path, "w", encoding="utf-8") as handle:
            for example, prediction in records:
                record = {
                    "example_id": _text(example["example_id"]),
                    "prediction": prediction,
                    "target": _text(example["targets_pretokenized"]),
                    "inputs": _text(example["inputs_pretokenized"]),
                }
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
    else:
        written = sum(1 for _ in records)
    multihost_utils.sync_global_devices(f"predictions written to {output_path}")
    return written
