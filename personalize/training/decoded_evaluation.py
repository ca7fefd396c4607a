"""Decoded evaluation during training, as T5X's inference evaluator: every EVAL_PERIOD, decode validation examples
and score them with the SeqIO task's metric functions (BLEU, ROUGE), logged beside the teacher-forced loss.

Teacher-forced loss rewards predicting the next token of the real document; the paper's metrics score what the
model writes by itself, so watching only the loss can pick the wrong checkpoint.
"""

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from personalize.decoding.generate import METHODS
from personalize.decoding.predict_task import predicted_records

Evaluate = Callable[[Any], dict[str, float]]


@dataclasses.dataclass(frozen=True)
class DecodedEvaluation:
    """Decode the first `num_examples` examples of the validation split with `method` (beam: `num_beams`, `alpha`)."""

    num_examples: int
    method: str = "beam"
    num_beams: int = 4
    alpha: float = 0.6

    def __post_init__(self):
        if self.num_examples < 1:
            raise ValueError(f"decoded evaluation: num_examples must be >= 1, got {self.num_examples}")
        if self.method not in METHODS:
            raise ValueError(f"decoded evaluation: method must be one of {METHODS}, got {self.method!r}")


def decoded_evaluation(
    *, num_examples: int | None, method: str = "beam", num_beams: int = 4, alpha: float = 0.6
) -> DecodedEvaluation | None:
    """The gin edge: off (None) unless `num_examples` is set, like T5X's `infer_eval_dataset_cfg = None`."""
    if num_examples is None:
        return None
    return DecodedEvaluation(num_examples=int(num_examples), method=method, num_beams=num_beams, alpha=alpha)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _number(value: Any) -> float | None:
    """A metric's value as a float: plain numbers and seqio's `Scalar`; None for text, histograms and the like."""
    value = getattr(value, "value", value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _tasks_with_metrics(*, mixture_or_task_name: str, split: str) -> list:
    import seqio

    provider = seqio.get_mixture_or_task(mixture_or_task_name)
    tasks = [task for task in seqio.get_subtasks(provider) if task.predict_metric_fns and split in task.splits]
    if not tasks:
        raise ValueError(
            f"decoded evaluation: {mixture_or_task_name!r} has no task with metric functions on split {split!r}"
        )
    return tasks


def make_decoded_evaluator(
    *,
    settings: DecodedEvaluation,
    mixture_or_task_name: str,
    split: str,
    model: Any,
    partitioner: Any,
    task_feature_lengths: Mapping[str, int],
    batch_size: int,
    mixture_or_task_module: str | None = None,
) -> Evaluate:
    """evaluate(params) -> the metric functions' values of each task (named `task/metric` for a mixture's tasks)
    and `decoded_examples`, the number of examples scored."""
    if mixture_or_task_module:
        importlib.import_module(mixture_or_task_module)
    tasks = _tasks_with_metrics(mixture_or_task_name=mixture_or_task_name, split=split)

    def evaluate(params: Any) -> dict[str, float]:
        metrics: dict[str, float] = {}
        scored = 0
        for task in tasks:
            targets, predictions = [], []
            for example, prediction in predicted_records(
                task_name=task.name, split=split, model=model, params=params, partitioner=partitioner,
                task_feature_lengths=task_feature_lengths, batch_size=batch_size, method=settings.method,
                num_beams=settings.num_beams, alpha=settings.alpha, max_examples=settings.num_examples,
            ):
                targets.append(task.postprocess_fn(_text(example["targets_pretokenized"]), example=example,
                                                   is_target=True))
                predictions.append(task.postprocess_fn(prediction, example=example, is_target=False))
            scored += len(targets)
            prefix = "" if len(tasks) == 1 else f"{task.name}/"
            for metric_fn in task.predict_metric_fns:
                for name, value in metric_fn(targets, predictions).items():
                    number = _number(value)
                    if number is not None:
                        metrics[prefix + name] = number
        metrics["decoded_examples"] = float(scored)
        return metrics

    return evaluate


def combined(*evaluators: Evaluate) -> Evaluate:
    """One evaluate(params) hook for the train loop: every evaluator's metrics in one dict (names must differ)."""

    def evaluate(params: Any) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for evaluator in evaluators:
            for name, value in evaluator(params).items():
                if name in metrics:
                    raise ValueError(f"two evaluators report a metric named {name!r}")
                metrics[name] = value
        return metrics

    return evaluate
