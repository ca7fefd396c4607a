"""Pre-train a from-scratch generator on denoising examples once; every row and stage model starts from it."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from typing import Any

from personalize.pretraining.denoising import VARIANT

MODEL_DIR = "model"


@dataclasses.dataclass(frozen=True)
class PretrainingSettings:
    """The denoising pre-training of a from-scratch model (the experiment's `pretraining`)."""

    train_steps: int = 600
    batch_size: int = 16
    length: int = 192          # inputs and targets: a whole document, packed
    learning_rate: float = 0.01
    warmup_steps: int = 50
    copies: int = 4            # differently corrupted copies of each training document
    span_start_rate: float = 0.05
    max_span_words: int = 3
    seed: int = 0


def pretrain(*, examples_dir: str, output_dir: str, vocabulary_path: str, model: Any,
             settings: PretrainingSettings) -> Any:
    """Trains `model` on the denoising examples in output_dir/model (or reuses the finished checkpoint); returns
    the unboxed params."""
    from personalize.partitioning.partitioner import make_partitioner
    from personalize.stage_models.task import register_stage_task
    from personalize.stage_models.train_apply import finished_params, train_seq2seq_model
    from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary

    if settings.train_steps < 1:
        raise ValueError(f"PretrainingSettings.train_steps must be >= 1, got {settings.train_steps}")
    lengths = {"inputs": settings.length, "targets": settings.length}
    partitioner = make_partitioner(num_partitions=1)
    model_dir = os.path.join(output_dir, MODEL_DIR)
    params = finished_params(model_dir=model_dir, model=model, lengths=lengths, partitioner=partitioner,
                             step=settings.train_steps)
    if params is not None:
        return params
    task = register_stage_task(name="personalize_pretrain_denoising_v1", examples_dir=examples_dir,
                               vocabulary=load_vocabulary(path=vocabulary_path))
    started = time.perf_counter()
    params = train_seq2seq_model(task_name=task, model_dir=model_dir, model=model, lengths=lengths,
                                 partitioner=partitioner, train_steps=settings.train_steps,
                                 batch_size=settings.batch_size, learning_rate=settings.learning_rate,
                                 warmup_steps=settings.warmup_steps, seed=settings.seed, pretrained_params=None)
    print(f"  pre-trained ({VARIANT}) to step {settings.train_steps} in {time.perf_counter() - started:.0f}s",
          file=sys.stderr, flush=True)
    return params
