"""95% bootstrap intervals over test examples, so a bar in the plots says how much of it is sampling noise.

Percentile bootstrap: resample the test examples with replacement (seeded, so a table is reproducible digit for
digit), recompute the figure on each resample, take the central `confidence` share of the results. Corpus BLEU is
not a mean of per-example scores, so it is resampled from per-example n-gram statistics and recomputed as
sacrebleu's corpus BLEU.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

RESAMPLES = 1000
SEED = 0
_NGRAM_ORDER = 4


def bootstrap_interval(
    *,
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] | None = None,
    resamples: int = RESAMPLES,
    confidence: float = 0.95,
    seed: int = SEED,
) -> tuple[float, float]:
    """(low, high) of the figure over resampled examples.

    `values` holds one row per example (a score, or a vector of statistics); `statistic` maps the resampled rows,
    in an array shaped like `values`, to the figure. None means the mean, computed for all resamples at once.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        raise ValueError("no examples to resample")
    if resamples < 1 or not 0.0 < confidence < 1.0:
        raise ValueError(f"needs resamples >= 1 and 0 < confidence < 1, got {resamples} and {confidence}")
    indices = np.random.default_rng(seed).integers(0, len(values), size=(resamples, len(values)))
    if statistic is None:
        figures = values[indices].mean(axis=1)
    else:
        figures = np.array([statistic(values[row]) for row in indices], dtype=np.float64)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(figures, [tail, 1.0 - tail], axis=0)
    return float(low), float(high)


def bleu_statistics(targets: Sequence[str], predictions: Sequence[str]) -> np.ndarray:
    """Per-example sufficient statistics of corpus BLEU: [matches per order, totals per order, hyp len, ref len]."""
    from sacrebleu.metrics import BLEU

    if len(targets) != len(predictions):
        raise ValueError(f"{len(targets)} targets but {len(predictions)} predictions")
    scorer = BLEU(effective_order=True)  # the statistics do not depend on it; it only silences a sentence warning
    rows = []
    for target, prediction in zip(targets, predictions):
        score = scorer.sentence_score(prediction, [target])
        rows.append([*score.counts, *score.totals, score.sys_len, score.ref_len])
    return np.asarray(rows, dtype=np.float64).reshape(len(targets), 2 * _NGRAM_ORDER + 2)


def bleu_from_statistics(statistics: np.ndarray) -> float:
    """sacrebleu's corpus BLEU (its defaults: exponential smoothing) of the examples whose statistics are given."""
    from sacrebleu.metrics import BLEU

    total = np.asarray(statistics).sum(axis=0).round().astype(int)
    correct, totals = list(total[:_NGRAM_ORDER]), list(total[_NGRAM_ORDER : 2 * _NGRAM_ORDER])
    return float(BLEU.compute_bleu(correct=correct, total=totals, sys_len=int(total[-2]), ref_len=int(total[-1]),
                                   smooth_method="exp").score)
