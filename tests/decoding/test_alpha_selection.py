"""The length penalty is a decoding hyperparameter chosen on validation: every candidate decodes the same validation
examples, the best ROUGE-L wins (ties: the smaller alpha), and a larger alpha makes beam search prefer longer text."""

import json
import math

import jax.numpy as jnp
import numpy as np
import pytest

from personalize.decoding.alpha_selection import best_alpha, select_alpha, validation_file
from personalize.decoding.beam_search import beam_search

TARGET = "the cat sat on the mat and looked at the sea for a long time"


def _write(path, predictions):
    with open(path, "w", encoding="utf-8") as handle:
        for number, prediction in enumerate(predictions):
            handle.write(json.dumps({"example_id": f"e{number}", "prediction": prediction, "target": TARGET}) + "\n")


def test_the_best_validation_rouge_l_wins_and_a_tie_goes_to_the_smaller_alpha():
    assert best_alpha([{"alpha": 0.6, "rougeL": 10.0}, {"alpha": 1.0, "rougeL": 12.5},
                       {"alpha": 2.0, "rougeL": 11.0}]) == 1.0
    assert best_alpha([{"alpha": 2.0, "rougeL": 12.5}, {"alpha": 1.0, "rougeL": 12.5}]) == 1.0
    with pytest.raises(ValueError, match="no alpha candidate"):
        best_alpha([])


def test_every_candidate_decodes_validation_once_and_the_longer_closer_text_is_chosen(tmp_path):
    # Larger alphas give longer predictions here, as they do in beam search: the longest matches the target best.
    outputs = {0.6: ["the cat"], 1.0: ["the cat sat on the mat"], 2.0: ["the cat sat on the mat and looked at the sea"]}
    calls = []

    def decode_validation(alpha, path):
        calls.append((alpha, path))
        _write(path, outputs[alpha])

    lines = []
    record = select_alpha(candidates=[2.0, 0.6, 1.0, 1.0], decode_validation=decode_validation,
                          directory=str(tmp_path), log=lines.append)
    assert calls == [(a, validation_file(str(tmp_path), a)) for a in (0.6, 1.0, 2.0)]
    assert record["alpha"] == 2.0
    assert [entry["alpha"] for entry in record["sweep"]] == [0.6, 1.0, 2.0]
    assert [entry["length_ratio"] for entry in record["sweep"]] == pytest.approx(
        [len(outputs[a][0]) / len(TARGET) for a in (0.6, 1.0, 2.0)])
    rouge_l = [entry["rougeL"] for entry in record["sweep"]]
    assert rouge_l == sorted(rouge_l) and rouge_l[0] < rouge_l[-1]
    assert len(lines) == 3 and lines[0].startswith("  alpha 0.6 on 1 validation examples: ROUGE-1")


@pytest.mark.parametrize("candidates", [[], [0.6, -1.0]])
def test_no_candidate_or_a_negative_one_is_refused(tmp_path, candidates):
    with pytest.raises(ValueError, match="alpha candidates must be"):
        select_alpha(candidates=candidates, decode_validation=lambda alpha, path: None, directory=str(tmp_path))


def _constant_model(eos_probability):
    """A decoder whose next-token distribution never changes: EOS (id 1) with `eos_probability`, else token 2."""
    logits = jnp.log(jnp.array([1e-9, eos_probability, 1.0 - eos_probability]))

    def tokens_to_logits(tokens, cache):
        return jnp.tile(logits, (tokens.shape[0], 1)), cache

    return tokens_to_logits


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.6, 1.0, 2.0])
def test_beam_search_stops_where_the_length_penalised_score_is_best(alpha):
    eos, max_length = 0.1, 40
    # L tokens then EOS: log p = L log 0.9 + log 0.1 over ((5 + L + 1) / 6) ** alpha; the best L, worked out here
    # (0, 1, 18, 39 and 39 for these alphas).
    scores = [(n * math.log(1 - eos) + math.log(eos)) / ((5 + n + 1) / 6) ** alpha for n in range(max_length)]
    expected = int(np.argmax(scores))
    result = beam_search(tokens_to_logits=_constant_model(eos), cache={"position": jnp.zeros((4,))}, batch_size=1,
                         num_beams=4, max_decode_length=max_length, alpha=alpha)
    best = np.asarray(result.sequences[0, 0])
    assert int(np.sum(best == 2)) == expected and best[expected] == 1


def test_a_larger_alpha_never_shortens_the_best_hypothesis():
    lengths = []
    for alpha in (0.0, 0.3, 0.6, 1.0, 1.5, 3.0):
        result = beam_search(tokens_to_logits=_constant_model(0.1), cache={"position": jnp.zeros((4,))},
                             batch_size=1, num_beams=4, max_decode_length=40, alpha=alpha)
        lengths.append(int(np.sum(np.asarray(result.sequences[0, 0]) == 2)))
    assert lengths == [0, 1, 18, 39, 39, 39]
