"""Generation checks on hand-worked examples: distinct share, lengths, repeated 3-grams, context use."""

import math

import pytest

from personalize.metrics.generation_checks import (
    context_use, context_use_share, distinct_share, generation_checks, mean_length, repeated_trigram_rate,
    repeated_trigram_share, words)


def test_words_lower_case_and_keep_inner_apostrophes():
    assert words("I'm here, Don't GO!") == ["i'm", "here", "don't", "go"]


def test_distinct_share_counts_predictions_equal_after_stripping():
    assert distinct_share(["a", "a ", "b", "c"]) == 3 / 4
    assert distinct_share(["I'm."] * 10) == 1 / 10
    with pytest.raises(ValueError):
        distinct_share([])


def test_mean_length_is_in_characters():
    assert mean_length(["abc", "de f"]) == 3.5


def test_repeated_trigram_share_by_hand():
    # abc bca cab abc: the fourth repeats the first.
    assert repeated_trigram_share("a b c a b c") == 1 / 4
    # "i'm i'm i'm i'm": 3-grams (i'm i'm i'm) x2, the second repeats.
    assert repeated_trigram_share("I'm. I'm. I'm. I'm.") == 1 / 2
    assert repeated_trigram_share("no repeats in this one") == 0.0
    assert repeated_trigram_share("two words") is None


def test_repeated_trigram_rate_averages_over_predictions_with_a_trigram():
    assert repeated_trigram_rate(["a b c a b c", "x y z", "short"]) == pytest.approx((1 / 4 + 0) / 2)
    assert math.isnan(repeated_trigram_rate(["short", ""]))


def test_context_use_counts_bigrams_of_the_past_passages_that_x_t_lacks():
    # Bigrams of the text: (the cat) (cat sat) (sat down). (the cat) is in x_t too, (cat sat) only in the past
    # passages, (sat down) in neither: 1 of 3.
    share = context_use_share(text="The cat sat down", immediate_context="the cat", past_passages="a cat sat there. The cat")
    assert share == pytest.approx(1 / 3)
    assert context_use_share(text="word", immediate_context="", past_passages="word word") is None
    # Repeating a copied bigram does not raise the share: bigrams are counted once.
    assert context_use_share(text="cat sat cat sat", immediate_context="", past_passages="cat sat") == pytest.approx(1 / 2)


def test_context_use_averages_and_checks_lengths():
    value = context_use(texts=["a b", "c d", "e"], immediate_contexts=["", "", ""], past_passages=["a b", "x", "e"])
    assert value == pytest.approx(0.5)
    with pytest.raises(ValueError, match="2 texts, 1 contexts"):
        context_use(texts=["a", "b"], immediate_contexts=["x"], past_passages=["p", "q"])


def test_generation_checks_of_a_degenerate_row():
    checks = generation_checks(predictions=["I'm. I'm. I'm. I'm."] * 4, targets=["x" * 38] * 4,
                               immediate_contexts=["x"] * 4, past_passages=None)
    assert checks["distinct"] == 0.25
    assert (checks["prediction_length"], checks["target_length"], checks["length_ratio"]) == (19.0, 38.0, 0.5)
    assert checks["repeated_trigrams"] == 0.5
    assert math.isnan(checks["context_use"]) and math.isnan(checks["targets_context_use"])


def test_generation_checks_measure_targets_against_the_same_passages():
    checks = generation_checks(predictions=["we went home"], targets=["we went to the sea"],
                               immediate_contexts=["we went"], past_passages=["to the sea went home"])
    # prediction: (we went) in x_t, (went home) from the passages -> 1/2; target: (to the) (the sea) of 4 -> 2/4.
    assert checks["context_use"] == pytest.approx(1 / 2)
    assert checks["targets_context_use"] == pytest.approx(2 / 4)
