"""Scores a LaMP / LongLaMP predictions file against a golds file: ROUGE-1, ROUGE-L and METEOR.

As the benchmarks' scripts do: both texts are stripped of surrounding whitespace; ROUGE is rouge-score's F-measure
without stemming (the default of the `evaluate` package they call) and scores are fractions in [0, 1], as in their
tables. One difference: examples are averaged plainly, where `evaluate` reports the middle of a bootstrap
(random, and within a hair of the plain mean). METEOR is skipped, with a note, when no WordNet folder is found.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from personalize.lamp_format import meteor as meteor_module
from personalize.lamp_format.tasks import check_task

ROUGE_KEYS = {"rouge1": "rouge-1", "rougeL": "rouge-L"}


def read_benchmark_file(path: str) -> tuple[str, dict[str, str]]:
    """(task, id -> output) of a `{"task", "golds": [{"id", "output"}]}` file; any defect names the file and entry."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict) or not isinstance(document.get("task"), str):
        raise ValueError(f'{path}: expected {{"task": ..., "golds": [...]}}')
    entries = document.get("golds")
    if not isinstance(entries, list):
        raise ValueError(f'{path}: "golds" must be a list')
    outputs: dict[str, str] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("output"), str):
            raise ValueError(f'{path}: golds[{index}] must be {{"id": ..., "output": "..."}}')
        key = entry.get("id")
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise ValueError(f"{path}: golds[{index}] has no string id")
        key = str(key)
        if key in outputs:
            raise ValueError(f"{path}: id {key!r} appears twice")
        outputs[key] = entry["output"]
    return document["task"], outputs


def rouge(*, targets: Sequence[str], predictions: Sequence[str], use_stemmer: bool = False) -> dict[str, float]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_KEYS), use_stemmer=use_stemmer)
    totals = dict.fromkeys(ROUGE_KEYS, 0.0)
    for target, prediction in zip(targets, predictions, strict=True):
        scores = scorer.score(target, prediction)
        for name in ROUGE_KEYS:
            totals[name] += scores[name].fmeasure
    return {ROUGE_KEYS[name]: total / len(targets) for name, total in totals.items()}


def _aligned(golds_path: str, predictions_path: str) -> tuple[str, list[str], list[str]]:
    gold_task, golds = read_benchmark_file(golds_path)
    predicted_task, predictions = read_benchmark_file(predictions_path)
    if gold_task != predicted_task:
        raise ValueError(f"{golds_path} is task {gold_task!r} but {predictions_path} is task {predicted_task!r}")
    check_task(gold_task)
    if not golds:
        raise ValueError(f"{golds_path}: no golds")
    missing = [key for key in golds if key not in predictions]
    extra = [key for key in predictions if key not in golds]
    if missing or extra:
        raise ValueError(
            f"{predictions_path} does not cover {golds_path} exactly: {len(missing)} ids without a prediction "
            f"{missing[:3]}, {len(extra)} predictions without a gold {extra[:3]}"
        )
    ids = list(golds)
    return gold_task, [golds[key].strip() for key in ids], [predictions[key].strip() for key in ids]


def evaluate_files(
    *,
    golds_path: str,
    predictions_path: str,
    wordnet_dir: str = meteor_module.DEFAULT_WORDNET_DIR,
    work_dir: str | None = None,
    use_stemmer: bool = False,
) -> dict[str, Any]:
    """{"task", "examples", "rouge-1", "rouge-L", "meteor"}; without WordNet, "meteor_skipped" says why instead."""
    task, targets, predictions = _aligned(golds_path, predictions_path)
    result: dict[str, Any] = {"task": task, "examples": len(targets)}
    result.update(rouge(targets=targets, predictions=predictions, use_stemmer=use_stemmer))
    wordnet = meteor_module.open_wordnet(directory=wordnet_dir, work_dir=work_dir)
    if wordnet is None:
        result["meteor_skipped"] = (
            f"no WordNet 3.0 database in {wordnet_dir} (apt-get install wordnet-base, or point --wordnet_dir at "
            "nltk_data/corpora/wordnet)"
        )
    else:
        result["meteor"] = meteor_module.meteor(targets=targets, predictions=predictions, wordnet=wordnet)
    return result
