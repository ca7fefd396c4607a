"""ROUGE recall and precision of a context against the real current document.

Recall: the share of the document's n-grams (or LCS) that the context holds — what a generator could copy.
Precision: the share of the context that is in the document — how little of the 2,500 characters is noise.
Scored with Google's `rouge-score` package (stemming on, its default tokenizer), target = the real document.
"""

from __future__ import annotations

import dataclasses
from rouge_score import rouge_scorer

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
MEASURES = ("recall", "precision")


def make_scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def context_overlap(*, scorer: rouge_scorer.RougeScorer, target: str, context: str) -> dict[str, float]:
    """{"rouge1_recall": ..., "rouge1_precision": ..., ...} of `context` against `target`, fractions in [0, 1]."""
    scores = scorer.score(target, context)
    return {f"{kind}_{measure}": float(getattr(scores[kind], measure)) for kind in ROUGE_TYPES for measure in MEASURES}


@dataclasses.dataclass
class OverlapMean:
    """A running mean of `context_overlap` results and of the context length, for one report row."""

    examples: int = 0
    chars: int = 0
    sums: dict[str, float] = dataclasses.field(
        default_factory=lambda: {f"{k}_{m}": 0.0 for k in ROUGE_TYPES for m in MEASURES})

    def add(self, *, scores: dict[str, float], context: str) -> None:
        self.examples += 1
        self.chars += len(context)
        for key, value in scores.items():
            self.sums[key] += value

    def means(self) -> dict[str, float]:
        """Means in percent (NaN without examples), plus the mean context length in characters."""
        count = self.examples
        values = {key: (100.0 * total / count if count else float("nan")) for key, total in self.sums.items()}
        values["context_chars"] = self.chars / count if count else float("nan")
        return values

