"""Train a stage-3/4 model on its examples directory, decode every apply split, write the stage addition.

SumCtx and SynCtx train on their weak labels (one half of the generation training data) and decode the other half
plus validation and test; SumCtxInd trains on a public summarization corpus (or starts from an imported checkpoint
without training) and decodes the ranked entries of every example. Output directory layout:

  OUTPUT_DIR/manifest.json, {split}-SSSSS-of-NNNNN.jsonl   the addition (personalize.pipeline.additions)
  OUTPUT_DIR/model/checkpoints/, model/metrics.jsonl        the trained model (personalize.training.finetune)
  OUTPUT_DIR/predictions/apply-{split}.jsonl                decoded outputs {example_id, prediction, target, inputs}

Resumable: a model directory with a checkpoint at `train_steps` is not trained again, and finished prediction files
of that model are not decoded again. The addition manifest is written last, so a directory without one is partial.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from typing import Any

from personalize.console import format_duration
from personalize.stage_models.task import read_manifest, register_stage_task

MODEL_DIR = "model"
PREDICTIONS_DIR = "predictions"
VARIANTS = ("SumCtxInd", "SumCtx", "SynCtx")
CHECKPOINT_FORMATS = ("t5x", "hf")


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _model(*, model_config: Any, vocab_size: int):
    from personalize.models.t5.network import Transformer

    padded = -(-vocab_size // 128) * 128  # T5 pads the embedding rows to a multiple of 128
    return Transformer(config=dataclasses.replace(model_config, vocab_size=padded))


def imported_params(*, path: str, checkpoint_format: str, config: Any) -> Any:
    """Parameters of a local T5X or Hugging Face T5 checkpoint, checked against `config` (the model trained here)."""
    from personalize.models.t5 import checkpoint_import

    if checkpoint_format == "t5x":
        return checkpoint_import.load_t5x(path=path, config=config)
    if checkpoint_format == "hf":
        _, params = checkpoint_import.load_hf_t5(path=path, dtype=config.dtype)
        checkpoint_import.check_params(config=config, params=params, source=path)
        return params
    raise ValueError(f"checkpoint_format must be one of {CHECKPOINT_FORMATS}, got {checkpoint_format!r}")


def finished_params(*, model_dir: str, model: Any, lengths: dict[str, int], partitioner: Any, step: int) -> Any:
    """The chosen params of a model directory whose training finished (at `step`, or earlier on validation), or None."""
    from personalize.training.recipe import finished_model

    done = finished_model(model_dir=model_dir, model=model, lengths=lengths, partitioner=partitioner, train_steps=step)
    return None if done is None else done.params


def train_seq2seq_model(*, task_name: str, model_dir: str, model: Any, lengths: dict[str, int], partitioner: Any,
                        train_steps: int, batch_size: int, learning_rate: float, warmup_steps: int, seed: int,
                        pretrained_params: Any, validation_task_name: str | None = None,
                        eval_period: int | None = None, patience: int = 3) -> Any:
    """Trains (resuming from model_dir's checkpoints) on a seq2seq task with the experiment's one recipe
    (personalize.training.recipe); returns the chosen params."""
    from personalize.training.recipe import train_until_converged

    return train_until_converged(
        task_name=task_name, model_dir=model_dir, model=model, lengths=lengths, partitioner=partitioner,
        train_steps=train_steps, batch_size=batch_size, learning_rate=learning_rate, warmup_steps=warmup_steps,
        validation_task_name=validation_task_name, eval_period=eval_period, patience=patience, seed=seed,
        pretrained_params=pretrained_params).params


def _read_predictions(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8") as handle:
        return {record["example_id"]: record["prediction"] for record in map(json.loads, handle)}


def train_and_apply(
    *,
    examples_dir: str,
    output_dir: str,
    variant: str,
    vocabulary_path: str,
    model_config: Any,
    train_steps: int,
    apply_dir: str | None = None,
    ranked_dir: str | None = None,
    batch_size: int = 16,
    inputs_length: int = 512,
    targets_length: int = 128,
    learning_rate: float = 0.001,
    warmup_steps: int = 100,
    eval_period: int | None = None,
    patience: int = 3,
    decode_method: str = "beam",
    num_beams: int = 4,
    alpha: float = 0.6,
    decode_batch_size: int = 16,
    initial_checkpoint: str | None = None,
    checkpoint_format: str = "t5x",
    pretrained_params: Any = None,
    num_partitions: int = 1,
    seed: int = 0,
) -> dict[str, Any]:
    """Trains (or reuses) the stage model and writes the `variant` addition in `output_dir`; returns a summary.

    examples_dir: the model's training examples (`train.jsonl`; SumCtx/SynCtx weak labels, or the SumCtxInd corpus).
    apply_dir: the examples directory whose `apply-*` files are decoded (default: examples_dir; for SumCtxInd the
      `write_sumctxind_inputs` directory). Its manifest settings give the ranked dataset (unless `ranked_dir` is
      given) and the half seed/mode that decide which training examples the addition covers.
    train_steps: total training steps; 0 decodes with `initial_checkpoint` as it is (SumCtxInd from a public
      summarizer). initial_checkpoint: a local T5X (`checkpoint_format='t5x'`) or Hugging Face ('hf') T5 checkpoint
      to start from; its shape must be `model_config` with the vocabulary's rows. pretrained_params: or the
      parameters to start from, in memory (the experiment's denoising pre-training).
    decode_method: 'beam' (num_beams, the paper's 4) or 'greedy' (faster).
    eval_period / patience: when the examples have a `validation` split, its loss is measured every eval_period
      steps and training stops when it stops improving (the recipe of personalize.training.recipe).
    """
    from personalize.partitioning.partitioner import make_partitioner
    from personalize.pipeline.ranked import RankedDataset
    from personalize.summarization.predicted_addition import write_predicted_addition
    from personalize.decoding.predict_task import predict_split
    from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS} (SynCtxInd needs no model), got {variant!r}")
    if train_steps < 0 or (train_steps == 0 and initial_checkpoint is None and pretrained_params is None):
        raise ValueError(f"train_steps must be >= 1, or 0 with an initial_checkpoint; got {train_steps}")
    apply_dir = apply_dir or examples_dir
    training_manifest = read_manifest(examples_dir=examples_dir)
    apply_manifest = read_manifest(examples_dir=apply_dir)
    for directory, manifest in ((examples_dir, training_manifest), (apply_dir, apply_manifest)):
        if manifest.get("variant") != variant:
            raise ValueError(f"{directory} holds {manifest.get('variant')!r} examples, not {variant!r}")
    if train_steps and not training_manifest["files"].get("train"):
        raise ValueError(f"{examples_dir} has no training examples (train.jsonl) to train {variant} on")
    apply_splits = sorted(name for name in apply_manifest["files"] if name.startswith("apply-"))
    if not apply_splits:
        raise ValueError(f"{apply_dir} has no apply-* files to decode")
    settings = apply_manifest.get("settings", {})
    ranked_dir = ranked_dir or settings.get("ranked_dir")
    if not ranked_dir:
        raise ValueError(f"{apply_dir}: manifest settings name no ranked_dir; pass ranked_dir=")

    vocabulary = load_vocabulary(path=vocabulary_path)
    slug = variant.lower()
    train_task = register_stage_task(name=f"personalize_stage_{slug}_train_v1", examples_dir=examples_dir,
                                     vocabulary=vocabulary)
    apply_task = train_task if apply_dir == examples_dir else register_stage_task(
        name=f"personalize_stage_{slug}_apply_v1", examples_dir=apply_dir, vocabulary=vocabulary)

    lengths = {"inputs": inputs_length, "targets": targets_length}
    model = _model(model_config=model_config, vocab_size=vocabulary.vocab_size)
    partitioner = make_partitioner(num_partitions=num_partitions)
    model_dir = os.path.join(output_dir, MODEL_DIR)
    predictions_dir = os.path.join(output_dir, PREDICTIONS_DIR)
    if initial_checkpoint is not None and pretrained_params is not None:
        raise ValueError("give initial_checkpoint or pretrained_params, not both")
    pretrained = pretrained_params
    if initial_checkpoint is not None:
        pretrained = imported_params(path=initial_checkpoint, checkpoint_format=checkpoint_format,
                                     config=model.config)
    trained = False
    if train_steps == 0:
        params = pretrained
    else:
        params = finished_params(model_dir=model_dir, model=model, lengths=lengths, partitioner=partitioner,
                                  step=train_steps)
        if params is None:
            started = time.perf_counter()
            validates = bool(eval_period) and bool(training_manifest["files"].get("validation"))
            params = train_seq2seq_model(task_name=train_task, model_dir=model_dir, model=model, lengths=lengths,
                                         partitioner=partitioner, train_steps=train_steps, batch_size=batch_size,
                                         learning_rate=learning_rate, warmup_steps=warmup_steps, seed=seed,
                                         pretrained_params=pretrained,
                                         validation_task_name=train_task if validates else None,
                                         eval_period=eval_period if validates else None, patience=patience)
            trained = True
            _log(f"  trained {variant} (limit {train_steps} steps) in {format_duration(time.perf_counter() - started)}")
        else:
            _log(f"  {variant}: reusing the finished model in {model_dir}")

    os.makedirs(predictions_dir, exist_ok=True)
    predictions: dict[str, str] = {}
    counts: dict[str, int] = {}
    for split in apply_splits:
        path = os.path.join(predictions_dir, f"{split}.jsonl")
        if trained or not os.path.exists(path):
            partial = path + ".partial"
            predict_split(task_name=apply_task, split=split, model=model, params=params, partitioner=partitioner,
                          task_feature_lengths=lengths, output_path=partial, batch_size=decode_batch_size,
                          method=decode_method, num_beams=num_beams, alpha=alpha)
            os.replace(partial, path)
        split_predictions = _read_predictions(path)
        counts[split] = len(split_predictions)
        predictions.update(split_predictions)

    manifest = write_predicted_addition(ranked=RankedDataset(ranked_dir), variant=variant, predictions=predictions,
                                        output_dir=output_dir, seed=int(settings.get("seed", 0)),
                                        by=settings.get("by", "user"))
    return {"variant": variant, "files": counts, "shards": manifest["shards"], "model_dir": model_dir,
            "trained": trained}
