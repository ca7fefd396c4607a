"""Decode one split of a SeqIO generation task and write predictions beside the real documents.

Keeps each example's id and the real, untruncated current document (what the paper's metrics compare against),
not the model's truncated targets; `personalize infer` and the experiment runner both write predictions with it.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Mapping

import numpy as np


def _pad(rows: list[np.ndarray], *, length: int, batch_size: int) -> np.ndarray:
    batch = np.zeros((batch_size, length), np.int32)
    for index, row in enumerate(rows):
        batch[index, : min(len(row), length)] = row[:length]
    return batch


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
    """Writes JSONL records {example_id, prediction, target, inputs}; returns the number of examples."""
    import seqio

    from personalize.decoding.generate import generate
    from personalize.partitioning.shardings import partitioning_context

    task = seqio.get_mixture_or_task(task_name)
    vocabulary = task.output_features["targets"].vocabulary
    dataset = task.get_dataset(sequence_length=dict(task_feature_lengths), split=split, shuffle=False, num_epochs=1)
    examples = list(dataset.take(max_examples) if max_examples else dataset)
    started = time.perf_counter()
    written = 0
    with open(output_path, "w", encoding="utf-8") as handle, partitioning_context(mesh=partitioner.mesh, rules=partitioner.rules):
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            inputs = _pad([e["inputs"].numpy() for e in chunk], length=int(task_feature_lengths["inputs"]), batch_size=batch_size)
            decoded = generate(model=model, params=params, encoder_input_tokens=inputs,
                               max_decode_length=int(task_feature_lengths["targets"]), method=method,
                               num_beams=num_beams, alpha=alpha)
            best = np.asarray(decoded.sequences)[:, 0]
            for example, tokens in zip(chunk, best):
                ids = [int(t) for t in tokens if t != 0]
                ids = ids[: ids.index(1)] if 1 in ids else ids
                record = {
                    "example_id": example["example_id"].numpy().decode("utf-8"),
                    "prediction": vocabulary.decode(ids),
                    "target": example["targets_pretokenized"].numpy().decode("utf-8"),
                    "inputs": example["inputs_pretokenized"].numpy().decode("utf-8"),
                }
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
            rate = written / max(time.perf_counter() - started, 1e-9)
            eta = (len(examples) - written) / max(rate, 1e-9)
            print(f"  decoding {task_name} {split}: {written}/{len(examples)} examples, {rate:.1f} examples/s, "
                  f"ETA {eta:.0f}s", file=sys.stderr)
    return written
