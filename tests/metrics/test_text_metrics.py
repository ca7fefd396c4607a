"""Metric functions against hand-worked values and the libraries' direct results; the paired t-test."""

import json
import math

import pytest
import sacrebleu
from rouge_score import rouge_scorer
from scipy import stats

from personalize.metrics.significance import compare_prediction_files, paired_t_test, per_example_scores
from personalize.metrics.text_metrics import bleu, exact_match, rouge

TARGETS = ["the cat sat on the mat today", "a quick brown fox jumps over the lazy dog", "running dogs were running"]
PREDICTIONS = ["the cat sat on a mat", "a quick brown fox jumped over a lazy dog", "the dog runs"]


def test_rouge_hand_worked():
    # target "the cat sat", prediction "the cat": P = 1, R = 2/3, F = 0.8; bigrams: P = 1, R = 1/2, F = 2/3.
    scores = rouge(["the cat sat"], ["the cat"])
    assert scores["rouge1"] == pytest.approx(80.0)
    assert scores["rouge2"] == pytest.approx(200 / 3)
    assert scores["rougeL"] == pytest.approx(80.0)
    # Stemming: "running" and "runs" share the stem "run".
    assert rouge(["running"], ["runs"])["rouge1"] == pytest.approx(100.0)


def test_rouge_and_bleu_equal_the_libraries():
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    direct = [scorer.score(t, p) for t, p in zip(TARGETS, PREDICTIONS)]
    scores = rouge(TARGETS, PREDICTIONS)
    for name in ("rouge1", "rouge2", "rougeL"):
        assert scores[name] == pytest.approx(100 * sum(d[name].fmeasure for d in direct) / 3)
    assert bleu(TARGETS, PREDICTIONS)["bleu"] == pytest.approx(sacrebleu.corpus_bleu(PREDICTIONS, [TARGETS]).score)
    assert bleu(TARGETS, TARGETS)["bleu"] == pytest.approx(100.0)


def test_exact_match_and_errors():
    assert exact_match(["true", "false", "true"], ["true ", "true", "true"]) == {"accuracy": pytest.approx(200 / 3)}
    with pytest.raises(ValueError, match="2 targets but 1 predictions"):
        exact_match(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no examples"):
        bleu([], [])


def test_paired_t_test_matches_the_formula():
    first, second = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 3.0, 7.0]
    differences = [1.0, 2.0, 0.0, 3.0]  # mean 1.5, sample sd sqrt(5/3)
    t = 1.5 / (math.sqrt(5 / 3) / 2)
    result = paired_t_test(first, second)
    assert result["t"] == pytest.approx(t)
    assert result["mean_first"] == 2.5 and result["mean_second"] == 4.0
    # Two-sided p with 3 degrees of freedom, from the t distribution's closed form for nu = 3:
    # P(|T| > t) = 1 - (2 / pi) * (x / (1 + x^2) + atan(x)), x = t / sqrt(3).
    x = t / math.sqrt(3)
    assert result["p"] == pytest.approx(1 - (2 / math.pi) * (x / (1 + x * x) + math.atan(x)), rel=1e-12)
    assert result["p"] == pytest.approx(0.1027280788583989, rel=1e-12)
    # scipy's own two-sided value (the one-sided value would be half: 0.0514).
    assert result["p"] == stats.ttest_rel(second, first).pvalue
    assert sum(differences) / 4 == result["mean_second"] - result["mean_first"]


def _write(path, predictions, targets):
    with open(path, "w") as handle:
        for index, (prediction, target) in enumerate(zip(predictions, targets)):
            handle.write(json.dumps({"example_id": f"e{index}", "prediction": prediction, "target": target}) + "\n")
    return str(path)


def test_significance_on_a_constructed_case(tmp_path):
    targets = [f"the user wrote sentence number {i} about the garden and the river" for i in range(30)]
    good = [t.replace("river", "lake") for t in targets]  # one word wrong in each
    bad = [f"completely different words {i}" for i in range(30)]
    report = compare_prediction_files(baseline_path=_write(tmp_path / "a.jsonl", bad, targets),
                                      candidate_path=_write(tmp_path / "b.jsonl", good, targets))
    for name in ("bleu", "rouge1", "rouge2", "rougeL"):
        assert report[name]["significant"] and report[name]["p"] < 0.01 and report[name]["t"] > 0, name
    same = compare_prediction_files(baseline_path=str(tmp_path / "b.jsonl"), candidate_path=str(tmp_path / "b.jsonl"))
    assert not same["rouge1"]["significant"] and math.isnan(same["rouge1"]["p"])
    assert per_example_scores(targets[:1], good[:1])["rouge1"] == [pytest.approx(100 * 11 / 12)]


def test_mismatched_files_fail(tmp_path):
    a = _write(tmp_path / "a.jsonl", ["x", "y"], ["t1", "t2"])
    b = _write(tmp_path / "b.jsonl", ["x"], ["t1"])
    with pytest.raises(ValueError, match="cover different examples"):
        compare_prediction_files(baseline_path=a, candidate_path=b)
    c = _write(tmp_path / "c.jsonl", ["x", "y"], ["t1", "other"])
    with pytest.raises(ValueError, match="different targets"):
        compare_prediction_files(baseline_path=a, candidate_path=c)


def test_constant_differences():
    assert math.isnan(paired_t_test([1.0, 2.0], [1.0, 2.0])["p"])
    assert paired_t_test([1.0, 2.0], [2.0, 3.0])["t"] == math.inf
    assert paired_t_test([1.0, 2.0], [2.0, 3.0])["p"] == 0.0
