"""A SeqIO task over a seq2seq examples directory (personalize.summarization.seq2seq_examples).

One split per file of the directory: `train`, `validation`, `apply-train`, `apply-validation`, `apply-test` (those
its manifest lists). Examples carry inputs, targets and example_id; tokenization and EOS are the generation
tasks' (tasks/features.py), so a stage model sees the same features as the generator.
"""

from __future__ import annotations

import json
import os
from typing import Any

from personalize.summarization.seq2seq_examples import FORMAT, MANIFEST, read_examples

FIELDS = ("inputs", "targets", "example_id")


def read_manifest(*, examples_dir: str) -> dict[str, Any]:
    """The manifest of an examples directory, checked (the error names the directory)."""
    path = os.path.join(examples_dir, MANIFEST)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{examples_dir} is not a seq2seq examples directory (no {MANIFEST})")
    with open(path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest


def _dataset_fn(examples_dir: str):
    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None):
        import tensorflow as tf

        # One file per split: there is nothing to shuffle at the file level; the Task's buffer shuffles examples.
        del shuffle_files, seed
        signature = {field: tf.TensorSpec(shape=(), dtype=tf.string) for field in FIELDS}
        return tf.data.Dataset.from_generator(
            lambda: ({field: record[field] for field in FIELDS}
                     for record in read_examples(examples_dir=examples_dir, name=split)),
            output_signature=signature)

    return dataset_fn


def register_stage_task(*, name: str, examples_dir: str, vocabulary: Any) -> str:
    """Registers (or re-registers: safe to call twice, also with another directory) the task `name`.

    `vocabulary` is a seqio vocabulary. Returns the name.
    """
    import seqio

    from tasks import features

    splits = sorted(read_manifest(examples_dir=examples_dir)["files"])
    seqio.TaskRegistry.remove(name)
    task = seqio.Task(
        name,
        source=seqio.FunctionDataSource(_dataset_fn(os.path.abspath(examples_dir)), splits=splits),
        preprocessors=features.preprocessors(),
        output_features=features.output_features(vocabulary),
    )
    seqio.TaskRegistry.add_provider(name, task)
    return name
