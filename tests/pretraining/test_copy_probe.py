"""The copy probe's scores: exact match, position-wise token accuracy and ROUGE-L of regenerated passages."""

import pytest

from personalize.pretraining.copy_probe import copy_probe_scores, probe_passages


def test_hand_worked_scores():
    scores = copy_probe_scores(target_ids=[[1, 2, 3], [4, 5]], predicted_ids=[[1, 2, 3], [4, 6, 7]],
                               target_texts=["a b c", "d e"], predicted_texts=["a b c", "x y z"])
    assert scores["examples"] == 2
    assert scores["exact_match"] == 0.5
    assert scores["token_accuracy"] == pytest.approx(4 / 5)  # 3 of 3, then 1 of 2 (the extra token earns nothing)
    assert scores["rougeL"] == pytest.approx(50.0)            # 100 for the copy, 0 for the other
    assert scores["mean_target_tokens"] == 2.5 and scores["mean_predicted_tokens"] == 3.0


def test_a_shifted_copy_has_no_token_accuracy_but_keeps_rouge():
    scores = copy_probe_scores(target_ids=[[1, 2, 3, 4]], predicted_ids=[[9, 1, 2, 3, 4]],
                               target_texts=["a b c d"], predicted_texts=["z a b c d"])
    assert scores["exact_match"] == 0.0 and scores["token_accuracy"] == 0.0
    assert scores["rougeL"] > 80


def test_passages_are_cut_to_the_probe_length_and_empty_ones_dropped():
    encode = lambda text: [ord(c) for c in text]  # noqa: E731
    assert probe_passages(texts=["abcdef", "", "xy"], encode=encode, probe_tokens=4) == [[97, 98, 99, 100], [120, 121]]


def test_mismatched_or_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="same non-zero number"):
        copy_probe_scores(target_ids=[], predicted_ids=[], target_texts=[], predicted_texts=[])
    with pytest.raises(ValueError, match="same non-zero number"):
        copy_probe_scores(target_ids=[[1]], predicted_ids=[], target_texts=["a"], predicted_texts=[])


class _CharVocabulary:
    def encode(self, text):
        return [ord(c) for c in text]

    def decode(self, ids):
        return "".join(chr(i) for i in ids)


def test_the_probe_asks_for_the_copy_after_the_denoising_prefix(monkeypatch):
    import numpy as np

    from personalize.decoding import generate as generate_module
    from personalize.pretraining.copy_probe import run_copy_probe

    prefix = "Copy: "
    seen = []

    def copy_after_prefix(*, encoder_input_tokens, max_decode_length, **_):
        """A perfect copier: the input after the prefix, EOS included."""
        seen.append(np.asarray(encoder_input_tokens))
        sequences = np.zeros((len(encoder_input_tokens), 1, max_decode_length), np.int32)
        for row, tokens in enumerate(np.asarray(encoder_input_tokens)):
            rest = list(tokens[len(prefix):])
            sequences[row, 0, :len(rest)] = rest[:max_decode_length]
        return generate_module.Decoded(sequences=sequences, scores=np.zeros((len(sequences), 1)))

    monkeypatch.setattr(generate_module, "generate", copy_after_prefix)
    probe = run_copy_probe(model=None, params=None, vocabulary=_CharVocabulary(), texts=["abcdef", "xyz"],
                           probe_tokens=4, batch_size=2, prefix=prefix)
    assert [list(row[:len(prefix)]) for row in seen[0]] == [[ord(c) for c in prefix]] * 2
    assert probe["scores"]["exact_match"] == 1.0
    assert probe["samples"][0] == {"target": "abcd", "prediction": "abcd"}
