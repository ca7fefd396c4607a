"""The experiment's own pre-training (`runner.run_experiment(pretraining=...)`): `personalize pretrain`'s stage,
built once as an artifact on the experiment's prepared data and vocabulary, that every row and stage model starts
from. The settings are a subset of `stage.run_pretraining`'s keywords, frozen so they can key the artifact."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from personalize.pretraining.stage import CHECKPOINT_DIR


@dataclasses.dataclass(frozen=True)
class PretrainingSettings:
    """What `stage.run_pretraining` trains (its defaults; see gin/pretrain/pretrain.gin for the CLI's)."""

    train_steps: int = 4000
    batch_size: int = 16
    inputs_length: int = 256
    targets_length: int = 256
    learning_rate: float = 0.01
    warmup_steps: int = 400
    noise_density: float = 0.15
    mean_noise_span_length: float = 3.0
    denoising_rate: float = 0.5
    denoising_prefix: str = ""
    copies: int = 4
    held_out_documents: int = 64
    users: str = "training"
    eval_period: int = 500
    patience: int = 3
    seed: int = 0

    def artifact_key(self) -> dict[str, Any]:
        """The settings as the experiment's artifact key; a field added later is left out at its default, so that
        a pre-training made before it existed is still found (and not silently redone)."""
        key = dataclasses.asdict(self)
        for name, default in _ADDED_LATER.items():
            if key[name] == default:
                del key[name]
        return key


# Fields added after experiments keyed their pre-training on the others, with the default that matches those runs.
_ADDED_LATER = {"denoising_prefix": ""}


def pretrain(*, prepared_dir: str, output_dir: str, vocabulary_path: str, model_config: Any,
             settings: PretrainingSettings) -> str:
    """Runs (or resumes) the pre-training in `output_dir` on the prepared data's training users, with the
    experiment's vocabulary; returns its Hugging Face checkpoint directory."""
    from personalize.pretraining.stage import run_pretraining

    run_pretraining(prepared_dir=prepared_dir, output_dir=output_dir, model_config=model_config,
                    vocabulary_path=vocabulary_path, checkpoint_format="hf", **dataclasses.asdict(settings))
    return os.path.join(output_dir, CHECKPOINT_DIR)
