"""Per-example scores and the paper's paired t-test (p < 0.01) between two systems' predictions.

Prediction files are JSONL with `example_id`, `prediction` and `target`; both files must cover the same
examples with the same targets. Per-example BLEU is sacrebleu's sentence BLEU; ROUGE is as in `text_metrics`.
"""

from __future__ import annotations

import json
import math
from typing import Sequence

from personalize.metrics.text_metrics import ROUGE_TYPES, rouge_scorer

METRICS = ("bleu", *ROUGE_TYPES)


def read_predictions(path: str) -> dict[str, dict]:
    records: dict[str, dict] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: corrupt prediction record ({error.msg})") from None
            if not all(key in record for key in ("example_id", "prediction", "target")):
                raise ValueError(f"{path}:{number}: needs example_id, prediction and target")
            if record["example_id"] in records:
                raise ValueError(f"{path}:{number}: example {record['example_id']!r} appears twice")
            records[record["example_id"]] = record
    return records


def per_example_scores(targets: Sequence[str], predictions: Sequence[str]) -> dict[str, list[float]]:
    """metric -> one score (in %) per example."""
    import sacrebleu

    scorer = rouge_scorer()
    scores: dict[str, list[float]] = {name: [] for name in METRICS}
    for target, prediction in zip(targets, predictions, strict=True):
        scores["bleu"].append(sacrebleu.sentence_bleu(prediction, [target]).score)
        rouge = scorer.score(target, prediction)
        for name in ROUGE_TYPES:
            scores[name].append(100.0 * rouge[name].fmeasure)
    return scores


def paired_t_test(first: Sequence[float], second: Sequence[float]) -> dict[str, float]:
    """scipy's two-sided paired t-test of `second - first`.

    Constant differences have no variance: t and p are NaN when they are all zero, and t = +-inf, p = 0 otherwise.
    """
    from scipy import stats

    if len(first) != len(second) or len(first) < 2:
        raise ValueError("a paired t-test needs two equally long score lists of at least 2 examples")
    means = {"mean_first": sum(first) / len(first), "mean_second": sum(second) / len(second)}
    differences = {b - a for a, b in zip(first, second)}
    if len(differences) == 1:
        (difference,) = differences
        if difference == 0:
            return {**means, "t": math.nan, "p": math.nan}
        return {**means, "t": math.copysign(math.inf, difference), "p": 0.0}
    result = stats.ttest_rel(second, first)
    return {**means, "t": float(result.statistic), "p": float(result.pvalue)}


def compare_prediction_files(*, baseline_path: str, candidate_path: str, alpha: float = 0.01) -> dict[str, dict]:
    """metric -> paired t-test of candidate against baseline over the shared examples, with `significant`."""
    baseline, candidate = read_predictions(baseline_path), read_predictions(candidate_path)
    if set(baseline) != set(candidate):
        missing = sorted(set(baseline) ^ set(candidate))[:5]
        raise ValueError(f"{baseline_path} and {candidate_path} cover different examples (e.g. {missing})")
    ids = sorted(baseline)
    for example_id in ids:
        if baseline[example_id]["target"] != candidate[example_id]["target"]:
            raise ValueError(f"example {example_id!r} has different targets in {baseline_path} and {candidate_path}")
    targets = [baseline[i]["target"] for i in ids]
    first = per_example_scores(targets, [baseline[i]["prediction"] for i in ids])
    second = per_example_scores(targets, [candidate[i]["prediction"] for i in ids])
    report = {}
    for name in METRICS:
        test = paired_t_test(first[name], second[name])
        test["significant"] = not math.isnan(test["p"]) and test["p"] < alpha
        report[name] = test
    return report
