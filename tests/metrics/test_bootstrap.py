"""Bootstrap intervals: seeded, around the point estimate, narrower with more examples; BLEU from its statistics."""

import numpy as np
import pytest
import sacrebleu

from personalize.metrics.bootstrap import bleu_from_statistics, bleu_statistics, bootstrap_interval


def _scores(n: int) -> np.ndarray:
    return np.random.default_rng(7).uniform(0.0, 100.0, size=n)


def test_interval_contains_the_mean_and_shrinks_with_more_examples():
    small, large = _scores(30), _scores(3000)
    low_small, high_small = bootstrap_interval(values=small)
    low_large, high_large = bootstrap_interval(values=large)
    assert low_small < small.mean() < high_small
    assert low_large < large.mean() < high_large
    # The width goes as 1/sqrt(n): 10x here, asserted loosely.
    assert (high_large - low_large) < (high_small - low_small) / 5


def test_interval_matches_the_normal_approximation_of_the_mean():
    values = _scores(2000)
    low, high = bootstrap_interval(values=values, resamples=2000)
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
    assert (high - low) / 2 == pytest.approx(half_width, rel=0.1)


def test_interval_is_seeded_and_a_constant_has_no_width():
    values = _scores(50)
    assert bootstrap_interval(values=values) == bootstrap_interval(values=values)
    assert bootstrap_interval(values=values, seed=1) != bootstrap_interval(values=values)
    assert bootstrap_interval(values=[3.0] * 10) == (3.0, 3.0)


def test_custom_statistic_sees_the_resampled_rows():
    values = np.column_stack([_scores(100), np.ones(100)])
    low, high = bootstrap_interval(values=values, statistic=lambda rows: rows[:, 0].sum() / rows[:, 1].sum())
    assert low < values[:, 0].mean() < high
    with pytest.raises(ValueError, match="no examples"):
        bootstrap_interval(values=[])


def test_bleu_from_per_example_statistics_is_sacrebleus_corpus_bleu():
    targets = ["the cat sat on the mat", "a dog ran in the park today", "hello there", "one two three four five"]
    predictions = ["the cat is on the mat", "a dog ran in a park", "goodbye", "one two three four five"]
    statistics = bleu_statistics(targets, predictions)
    assert statistics.shape == (4, 10)
    assert bleu_from_statistics(statistics) == pytest.approx(sacrebleu.corpus_bleu(predictions, [targets]).score, abs=1e-9)
    assert bleu_from_statistics(statistics[:2]) == pytest.approx(
        sacrebleu.corpus_bleu(predictions[:2], [targets[:2]]).score, abs=1e-9)
