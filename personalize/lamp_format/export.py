"""Our prediction JSONL (`example_id`, `prediction`, `target` a line) -> LaMP / LongLaMP JSON files.

Both benchmark files have one shape, `{"task": T, "golds": [{"id": ..., "output": ...}]}`: the golds file holds the
targets, the predictions file the model outputs, in the order of our file.
"""

from __future__ import annotations

import json
import os
from typing import Any

from personalize.lamp_format.tasks import benchmark_id, check_task
from personalize.metrics.significance import read_predictions


def benchmark_document(*, task: str, outputs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"task": task, "golds": [{"id": key, "output": text} for key, text in outputs]}


def _write_json(path: str, document: dict[str, Any]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    os.replace(temporary, path)


def export_predictions(
    *, predictions_path: str, task: str, output_path: str, golds_output_path: str | None = None
) -> int:
    """Writes the predictions file (and the golds file from our targets, when asked); returns the example count."""
    check_task(task)
    records = read_predictions(predictions_path)
    if not records:
        raise ValueError(f"{predictions_path}: no predictions")
    predictions: list[tuple[str, str]] = []
    targets: list[tuple[str, str]] = []
    owner: dict[str, str] = {}
    for example_id, record in records.items():
        key = benchmark_id(example_id=str(example_id), task=task)
        if key in owner:
            raise ValueError(f"{predictions_path}: examples {owner[key]!r} and {example_id!r} both export as id {key!r}")
        owner[key] = example_id
        predictions.append((key, str(record["prediction"])))
        targets.append((key, str(record["target"])))
    _write_json(output_path, benchmark_document(task=task, outputs=predictions))
    if golds_output_path is not None:
        _write_json(golds_output_path, benchmark_document(task=task, outputs=targets))
    return len(predictions)
