"""What a SeqIO task or mixture feeds the model: its tasks and rates, decoded examples, and token lengths.

Lengths are counted untrimmed (EOS included), over the first `max_examples` examples of each task in file
order; percentiles use numpy's linear interpolation. `truncated` is the share longer than the given length.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

FEATURES = ("inputs", "targets")


def parse_feature_lengths(text: str) -> dict[str, int]:
    """'inputs=1024,targets=512' -> {'inputs': 1024, 'targets': 512}."""
    lengths = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise ValueError(f"feature length {item!r} must look like NAME=INTEGER")
        lengths[key.strip()] = int(value)
    return lengths


def tasks_and_rates(provider) -> list[tuple[Any, float]]:
    """[(task, rate)]: the task itself with rate 1.0, or a mixture's tasks with their mixing rates."""
    import seqio

    if isinstance(provider, seqio.Mixture):
        return [(task, float(provider.get_rate(task))) for task in provider.tasks]
    return [(provider, 1.0)]


def decoded_examples(*, task, split: str, num_examples: int, feature_lengths: Mapping[str, int]) -> list[dict[str, str]]:
    """The first examples as the model sees them: token ids trimmed to `feature_lengths`, decoded back to text."""
    dataset = task.get_dataset(sequence_length=dict(feature_lengths), split=split, shuffle=False, num_epochs=1)
    examples = []
    for example in dataset.take(num_examples).as_numpy_iterator():
        examples.append({
            feature: task.output_features[feature].vocabulary.decode([int(t) for t in example[feature]])
            for feature in FEATURES if feature in example
        })
    return examples


def length_statistics(*, task, split: str, max_examples: int, feature_lengths: Mapping[str, int]) -> dict[str, dict]:
    """feature -> {count, min, median, p90, p99, max, truncated} of untrimmed token lengths."""
    dataset = task.get_dataset(sequence_length=None, split=split, shuffle=False, num_epochs=1)
    lengths: dict[str, list[int]] = {feature: [] for feature in FEATURES}
    for example in dataset.take(max_examples).as_numpy_iterator():
        for feature in FEATURES:
            if feature in example:
                lengths[feature].append(len(example[feature]))
    statistics = {}
    for feature, values in lengths.items():
        if not values:
            continue
        array = np.asarray(values)
        row = {"count": len(values), "min": int(array.min()), "median": float(np.percentile(array, 50)),
               "p90": float(np.percentile(array, 90)), "p99": float(np.percentile(array, 99)), "max": int(array.max())}
        if feature in feature_lengths:
            row["truncated"] = float(np.mean(array > feature_lengths[feature]))
        statistics[feature] = row
    return statistics


def inspect_provider(
    *, name: str, split: str, num_examples: int, feature_lengths: Mapping[str, int], max_examples: int = 1000
) -> dict[str, Any]:
    """The whole report for a registered task or mixture, as plain data."""
    import seqio

    provider = seqio.get_mixture_or_task(name)
    report: dict[str, Any] = {"name": name, "split": split, "feature_lengths": dict(feature_lengths), "tasks": []}
    for task, rate in tasks_and_rates(provider):
        entry: dict[str, Any] = {"name": task.name, "rate": rate}
        if split in task.splits:
            entry["examples"] = decoded_examples(task=task, split=split, num_examples=num_examples,
                                                 feature_lengths=feature_lengths)
            entry["lengths"] = length_statistics(task=task, split=split, max_examples=max_examples,
                                                 feature_lengths=feature_lengths)
        else:
            entry["missing_split"] = True
        report["tasks"].append(entry)
    return report


def format_report(report: Mapping[str, Any]) -> str:
    lines = [f"{report['name']} ({report['split']} split), feature lengths {report['feature_lengths']}"]
    for task in report["tasks"]:
        lines.append(f"\ntask {task['name']}  rate {task['rate']:g}")
        if task.get("missing_split"):
            lines.append(f"  no {report['split']} split")
            continue
        lines.append(f"  {'feature':<8} {'count':>6} {'min':>6} {'median':>8} {'p90':>8} {'p99':>8} {'max':>6} {'truncated':>9}")
        for feature, row in task["lengths"].items():
            truncated = f"{100 * row['truncated']:.1f}%" if "truncated" in row else "-"
            lines.append(f"  {feature:<8} {row['count']:>6} {row['min']:>6} {row['median']:>8.1f} {row['p90']:>8.1f}"
                         f" {row['p99']:>8.1f} {row['max']:>6} {truncated:>9}")
        for number, example in enumerate(task["examples"], start=1):
            lines.append(f"  example {number}")
            for feature, text in example.items():
                lines.append(f"    {feature}: {text}")
    return "\n".join(lines)
