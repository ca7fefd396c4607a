"""Inputs too long for their feature length lose whole past-passage entries from the end (issue: inputs that hold
what the row puts in them); the instruction, x_t, summary and keywords are kept."""

import seqio
import tensorflow as tf

from personalize.generation.examples import render_example  # noqa: E402
from personalize.generation.rows import Row  # noqa: E402
from tasks import features  # noqa: E402

VOCABULARY = seqio.ByteVocabulary()  # one token per byte: lengths below are counted by hand
EXAMPLE = {"example_id": "e1", "user_id": "u", "immediate_context": "Title\nstart", "target": "T",
           "contexts": {"RankDocBySnpt": {"text": "first entry\nline two\nsecond\nthird entry",
                                          "entry_chars": [20, 6, 11]}}}


def _tokenized(rendered: dict, length: int | None) -> str:
    dataset = tf.data.Dataset.from_tensors({k: tf.constant(rendered[k], dtype=tf.string)
                                            for k in ("inputs", "targets", "inputs_head", "inputs_entries")})
    output_features = features.output_features(VOCABULARY)
    dataset = seqio.preprocessors.tokenize(dataset, output_features)
    dataset = features.trim_past_passages_by_priority(
        dataset, sequence_length=None if length is None else {"inputs": length, "targets": 8},
        output_features=output_features)
    (example,) = list(dataset.as_numpy_iterator())
    assert features.HEAD not in example and features.ENTRIES not in example
    return VOCABULARY.decode(example["inputs"].tolist())


def test_entries_are_whole_documents_even_with_newlines_inside():
    rendered = render_example(row=Row("RankDocBySnpt", ranking="RankDocBySnpt"), example=EXAMPLE)
    assert rendered["inputs_entries"] == ["first entry\nline two", "\nsecond", "\nthird entry"]
    assert rendered["inputs_head"] + "".join(rendered["inputs_entries"]) == rendered["inputs"]


def test_an_input_that_fits_keeps_every_token():
    rendered = render_example(row=Row("RankDocBySnpt", ranking="RankDocBySnpt"), example=EXAMPLE)
    budget = len(rendered["inputs"].encode()) + 1  # + EOS
    assert _tokenized(rendered, budget) == rendered["inputs"]


def test_a_long_input_loses_whole_entries_from_the_end():
    rendered = render_example(row=Row("+SynCtx", ranking="RankDocBySnpt", summary="SumCtx", keywords="SynCtx"),
                              example=EXAMPLE, summary="a summary", keywords=["w1", "w2"])
    head = rendered["inputs_head"]
    assert head.endswith("summary: a summary important words: w1, w2 past passages: ")
    two_entries = head + "first entry\nline two\nsecond"
    # room for the head and two entries (+ EOS), one byte short of the third
    assert _tokenized(rendered, len(two_entries) + 1 + len("\nthird entry") - 1) == two_entries
    assert _tokenized(rendered, len(two_entries) + 1) == two_entries
    assert _tokenized(rendered, len(two_entries)) == head + "first entry\nline two"
    # no room for any entry: the head stays whole
    assert _tokenized(rendered, len(head) + 5) == head


def test_a_head_longer_than_the_budget_is_left_to_the_final_trim():
    rendered = render_example(row=Row("RankDocBySnpt", ranking="RankDocBySnpt"), example=EXAMPLE)
    assert _tokenized(rendered, 10) == rendered["inputs_head"]


def test_without_a_length_nothing_is_trimmed():
    rendered = render_example(row=Row("RankDocBySnpt", ranking="RankDocBySnpt"), example=EXAMPLE)
    assert _tokenized(rendered, None) == rendered["inputs"]


def test_rows_without_past_passages_are_unchanged():
    rendered = render_example(row=Row("ImmedCtx"), example=EXAMPLE)
    assert rendered["inputs_entries"] == []
    assert _tokenized(rendered, 8) == rendered["inputs"]  # too long, but only the final trim may cut it
    assert "past passages" not in rendered["inputs"]
