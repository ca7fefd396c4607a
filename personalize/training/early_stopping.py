"""Train until validation converges (the paper's rule): keep the best checkpoint, stop after `patience` evaluations
without improvement.

T5X itself trains to TRAIN_STEPS; the paper trains "until validation converges". Here TRAIN_STEPS stays the limit,
and a run with `EarlyStopping` also keeps MODEL_DIR/best_checkpoint/ (the state at the best validation step) and
MODEL_DIR/best.json (the record that survives a restart, so a resumed run counts patience from where it was and a
run that already stopped does not train again).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
from typing import Any, Mapping

import jax

from personalize.training import checkpoints
from personalize.training.state import TrainState

BEST_CHECKPOINT_DIR = "best_checkpoint"
BEST_RECORD_FILE = "best.json"


@dataclasses.dataclass(frozen=True)
class EarlyStopping:
    """Which validation metric decides, which way is better, and how many evaluations without improvement stop."""

    metric: str = "loss"
    mode: str = "min"
    patience: int = 3
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping.mode must be 'min' or 'max', got {self.mode!r}")
        if self.patience < 1:
            raise ValueError(f"EarlyStopping.patience must be >= 1, got {self.patience}")
        if self.min_delta < 0:
            raise ValueError(f"EarlyStopping.min_delta must be >= 0, got {self.min_delta}")

    def improves(self, value: float, best: float | None) -> bool:
        if best is None:
            return True
        return value < best - self.min_delta if self.mode == "min" else value > best + self.min_delta


@dataclasses.dataclass
class BestRecord:
    """What best.json holds: the best step and value so far, the last evaluated step, and whether training stopped."""

    metric: str
    best_step: int | None = None
    best_value: float | None = None
    last_evaluated_step: int = -1
    evaluations_since_best: int = 0
    stopped_at: int | None = None

    @classmethod
    def read(cls, path: pathlib.Path, *, metric: str) -> "BestRecord":
        if not path.exists():
            return cls(metric=metric)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            record = cls(**data)
        except (json.JSONDecodeError, TypeError) as error:
            raise ValueError(f"{path}: not a best-checkpoint record ({error}); remove it to start the record anew")
        if record.metric != metric:
            raise ValueError(f"{path} tracks validation {record.metric!r}, but this run stops on {metric!r}")
        return record

    def write(self, path: pathlib.Path) -> None:
        if jax.process_index() != 0:
            return
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(dataclasses.asdict(self), indent=1), encoding="utf-8")
        os.replace(partial, path)


class BestCheckpoint:
    """Saves the state at each new best validation value and decides when training stops."""

    def __init__(self, *, model_dir: str | pathlib.Path, rule: EarlyStopping):
        self.rule = rule
        self.path = pathlib.Path(model_dir) / BEST_RECORD_FILE
        self.record = BestRecord.read(self.path, metric=rule.metric)
        self.manager = checkpoints.open_manager(directory=pathlib.Path(model_dir) / BEST_CHECKPOINT_DIR, keep=1)

    @property
    def stopped(self) -> bool:
        return self.record.stopped_at is not None

    def observe(self, *, state: TrainState, step: int, metrics: Mapping[str, float], batches_consumed: int) -> bool:
        """Records one evaluation; True when training should stop now."""
        if step <= self.record.last_evaluated_step:  # a resumed run repeating an evaluation already counted
            return False
        if self.rule.metric not in metrics:
            raise ValueError(f"early stopping needs validation {self.rule.metric!r}; the evaluation gave "
                             f"{sorted(metrics)}")
        value = float(metrics[self.rule.metric])
        self.record.last_evaluated_step = step
        if self.rule.improves(value, self.record.best_value):
            checkpoints.save(manager=self.manager, state=state, batches_consumed=batches_consumed)
            self.manager.wait_until_finished()
            self.record.best_step, self.record.best_value = step, value
            self.record.evaluations_since_best = 0
        else:
            self.record.evaluations_since_best += 1
            if self.record.evaluations_since_best >= self.rule.patience:
                self.record.stopped_at = step
        self.record.write(self.path)
        return self.stopped

    def close(self) -> None:
        self.manager.close()


def read_best_record(model_dir: str | pathlib.Path) -> dict[str, Any] | None:
    """best.json of a model directory as a dict, or None when the run kept no best checkpoint."""
    path = pathlib.Path(model_dir) / BEST_RECORD_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def restore_best_params(*, model_dir: str | pathlib.Path, abstract_params: Any) -> tuple[Any, int]:
    """(params, step) of the best checkpoint of a run with early stopping."""
    record = read_best_record(model_dir)
    if record is None or record.get("best_step") is None:
        raise FileNotFoundError(f"{pathlib.Path(model_dir) / BEST_RECORD_FILE}: no best checkpoint recorded")
    manager = checkpoints.open_manager(directory=pathlib.Path(model_dir) / BEST_CHECKPOINT_DIR, keep=None)
    try:
        return checkpoints.restore_params(manager=manager, abstract_params=abstract_params, step=record["best_step"])
    finally:
        manager.close()
