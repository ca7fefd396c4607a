"""SeqIO-style metric functions `(targets, predictions) -> dict`, in percent like the paper's tables.

BLEU is sacrebleu's corpus BLEU with its defaults (13a tokenizer, exponential smoothing); ROUGE is rouge-score's
F-measure with Porter stemming, averaged over examples; the paper names neither implementation.
"""

from __future__ import annotations

from typing import Sequence

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def _check(targets: Sequence[str], predictions: Sequence[str]) -> None:
    if len(targets) != len(predictions):
        raise ValueError(f"{len(targets)} targets but {len(predictions)} predictions")
    if not targets:
        raise ValueError("no examples to score")


def bleu(targets: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
    import sacrebleu

    _check(targets, predictions)
    return {"bleu": sacrebleu.corpus_bleu(list(predictions), [list(targets)]).score}


def rouge_scorer():
    from rouge_score import rouge_scorer as scorer_module

    return scorer_module.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def rouge(targets: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
    _check(targets, predictions)
    scorer = rouge_scorer()
    totals = dict.fromkeys(ROUGE_TYPES, 0.0)
    for target, prediction in zip(targets, predictions):
        scores = scorer.score(target, prediction)
        for name in ROUGE_TYPES:
            totals[name] += scores[name].fmeasure
    return {name: 100.0 * total / len(targets) for name, total in totals.items()}


def exact_match(targets: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
    """Accuracy of exact string equality after stripping surrounding whitespace (author distinction labels)."""
    _check(targets, predictions)
    hits = sum(t.strip() == p.strip() for t, p in zip(targets, predictions))
    return {"accuracy": 100.0 * hits / len(targets)}


GENERATION_METRICS = (bleu, rouge)
