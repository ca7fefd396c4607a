"""Checks that a row's predictions are real generations, not a degenerate output, and whether they use the context.

The acceptance line of the project: predictions at least 90% distinct, mean length between 0.5x and 1.5x the
targets'. Beside those, the repeated 3-gram rate catches loops ("I'm. I'm. I'm."), and context use asks whether the
model takes words from the past passages it was given, which ROUGE against the target cannot tell apart from luck.

Words are lower-cased runs of letters and digits, apostrophes inside a word kept ("don't"); punctuation is dropped.
Lengths are in characters, since the paper's budgets (e.g. 2,500 characters of past passages) are.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

_WORD = re.compile(r"\w+(?:['’]\w+)*")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def distinct_share(predictions: Sequence[str]) -> float:
    """Distinct predictions over all predictions, after stripping surrounding whitespace (1.0: all differ)."""
    if not predictions:
        raise ValueError("no predictions to check")
    return len({p.strip() for p in predictions}) / len(predictions)


def mean_length(texts: Sequence[str]) -> float:
    """Mean length in characters."""
    if not texts:
        raise ValueError("no texts to measure")
    return sum(len(t) for t in texts) / len(texts)


def repeated_trigram_share(text: str) -> float | None:
    """Share of the text's word 3-grams (by position) that repeat an earlier 3-gram of the same text.

    None when the text has fewer than three words. "a b c a b c" has 3-grams abc, bca, cab, abc: 1 of 4 repeats.
    """
    grams = ngrams(words(text), 3)
    if not grams:
        return None
    seen: set[tuple[str, ...]] = set()
    repeats = 0
    for gram in grams:
        repeats += gram in seen
        seen.add(gram)
    return repeats / len(grams)


def repeated_trigram_rate(predictions: Sequence[str]) -> float:
    """`repeated_trigram_share` averaged over the predictions that have a 3-gram; NaN when none has."""
    return _mean([s for s in map(repeated_trigram_share, predictions) if s is not None])


def context_use_share(*, text: str, immediate_context: str, past_passages: str) -> float | None:
    """Share of the text's distinct word bigrams that occur in the past passages but not in x_t.

    None when the text has no bigram. A bigram the model copied from x_t does not count: x_t is in every row's input.
    """
    grams = set(ngrams(words(text), 2))
    if not grams:
        return None
    from_context = set(ngrams(words(past_passages), 2)) - set(ngrams(words(immediate_context), 2))
    return len(grams & from_context) / len(grams)


def context_use(*, texts: Sequence[str], immediate_contexts: Sequence[str], past_passages: Sequence[str]) -> float:
    """`context_use_share` averaged over the texts that have a bigram; NaN when none has."""
    if not len(texts) == len(immediate_contexts) == len(past_passages):
        raise ValueError(f"{len(texts)} texts, {len(immediate_contexts)} contexts x_t, "
                         f"{len(past_passages)} past passages")
    shares = [context_use_share(text=t, immediate_context=x, past_passages=p)
              for t, x, p in zip(texts, immediate_contexts, past_passages)]
    return _mean([s for s in shares if s is not None])


def generation_checks(
    *,
    predictions: Sequence[str],
    targets: Sequence[str],
    immediate_contexts: Sequence[str],
    past_passages: Sequence[str] | None,
) -> dict[str, float]:
    """One row's checks: shares are fractions in [0, 1], lengths characters; context use is NaN without past passages.

    `targets_context_use` is the same measure on the real documents, the mark the predictions' figure reads against.
    """
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions but {len(targets)} targets")
    prediction_length, target_length = mean_length(predictions), mean_length(targets)
    checks = {
        "distinct": distinct_share(predictions),
        "prediction_length": prediction_length,
        "target_length": target_length,
        "length_ratio": prediction_length / target_length if target_length else math.nan,
        "repeated_trigrams": repeated_trigram_rate(predictions),
        "context_use": math.nan,
        "targets_context_use": math.nan,
    }
    if past_passages is not None:
        checks["context_use"] = context_use(texts=predictions, immediate_contexts=immediate_contexts,
                                            past_passages=past_passages)
        checks["targets_context_use"] = context_use(texts=targets, immediate_contexts=immediate_contexts,
                                                    past_passages=past_passages)
    return checks
