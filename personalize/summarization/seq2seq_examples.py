"""Seq2seq examples for the stage-3/4 models, on disk as one small directory per model.

Layout of an examples directory:
  train.jsonl, validation.jsonl   {"example_id", "inputs", "targets"}: what the model trains and is measured on
  apply-{split}.jsonl             {"example_id", "inputs", "targets": ""}: what the trained model decodes to write
                                  the stage addition (the other half of train, all of validation and test)
  manifest.json                   {"format": "personalize.seq2seq/1", "variant", "files": {name: count}, "settings"}
The same layout holds a public summarization corpus (train/validation only) for SumCtxInd.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Iterable, Iterator, Mapping

from personalize.corpus.readers import iter_stage_records
from personalize.pipeline.ranked import RankedDataset
from personalize.preparation.dataset import write_json_atomically, write_jsonl_atomically
from personalize.summarization.halves import role

FORMAT = "personalize.seq2seq/1"
MANIFEST = "manifest.json"
SUMMARIZER_INSTRUCTION = "Summarize the past passages for the passage start."


def model_input(*, instruction: str, immediate_context: str, ranked_text: str) -> str:
    """The context-dependent models see x_t and the ranked entries, with the generation stage's field prefixes."""
    return f"{instruction} passage start: {immediate_context} past passages: {ranked_text}"


def ranked_text(*, record: Mapping[str, Any], strategy: str) -> str:
    contexts = record.get("contexts", {})
    if strategy not in contexts:
        raise KeyError(f"ranked example {record.get('example_id')!r} has no {strategy!r} context "
                       f"(has {sorted(contexts)})")
    return contexts[strategy]["text"]


def write_examples_dir(*, output_dir: str, variant: str, files: Mapping[str, Iterable[Mapping[str, str]]],
                       settings: Mapping[str, Any]) -> dict[str, Any]:
    """Writes each `files[name]` as name.jsonl, then the manifest (last, so a partial directory has none)."""
    os.makedirs(output_dir, exist_ok=True)
    counts = {}
    for name, records in files.items():
        counts[name] = write_jsonl_atomically(
            os.path.join(output_dir, f"{name}.jsonl"),
            ({"example_id": str(r["example_id"]), "inputs": r["inputs"], "targets": r["targets"]} for r in records))
    manifest = {"format": FORMAT, "variant": variant, "files": counts, "settings": dict(settings)}
    write_json_atomically(os.path.join(output_dir, MANIFEST), manifest)
    return manifest


def read_examples(*, examples_dir: str, name: str) -> Iterator[dict[str, str]]:
    """The records of one file (`train`, `validation`, `apply-test`, ...) of an examples directory."""
    manifest_path = os.path.join(examples_dir, MANIFEST)
    if not os.path.exists(manifest_path):
        raise FileNotFoundError(f"{examples_dir} is not a seq2seq examples directory (no {MANIFEST})")
    with open(manifest_path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{manifest_path}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    if name not in manifest["files"]:
        raise KeyError(f"{examples_dir}: no {name!r} examples; has {sorted(manifest['files'])}")
    yield from iter_stage_records(os.path.join(examples_dir, f"{name}.jsonl"), kind="seq2seq")


def write_weak_label_examples(
    *,
    ranked: RankedDataset,
    strategy: str,
    variant: str,
    instruction: str,
    label: Callable[[Mapping[str, Any]], str],
    output_dir: str,
    seed: int = 0,
    by: str = "user",
) -> dict[str, Any]:
    """Training examples (weak labels) for one half of train, and inputs to decode for the rest.

    `label(record)` is the weak label of a ranked record (SumCtx: the picked snippets; SynCtx: the keyword list
    as text). Labels are computed only where needed: the training half and validation.
    """
    files: dict[str, list[dict[str, str]]] = {"train": [], "validation": []}
    for split in ranked.splits:
        applied = files.setdefault(f"apply-{split}", [])
        for record in ranked.examples(split):
            inputs = model_input(instruction=instruction, immediate_context=record["immediate_context"],
                                 ranked_text=ranked_text(record=record, strategy=strategy))
            example = {"example_id": record["example_id"], "inputs": inputs, "targets": ""}
            if role(record=record, seed=seed, by=by) == "train":
                files["train"].append({**example, "targets": label(record)})
                continue
            applied.append(example)
            if split == "validation":
                files["validation"].append({**example, "targets": label(record)})
    settings = {"ranked_dir": ranked.path, "strategy": strategy, "seed": seed, "by": by, "instruction": instruction}
    return write_examples_dir(output_dir=output_dir, variant=variant, files=files, settings=settings)
