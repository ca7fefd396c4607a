"""Denoising pre-training examples: sentinel spans in, the whole document out (training users only: see
test_pretrain_command)."""

import random

import pytest

from personalize.corpus.document import Document
from personalize.pretraining.denoising import corrupt_spans, denoising_examples, document_text


def test_no_span_leaves_the_text_as_it_is_and_every_word_a_span_replaces_all():
    text = "one two three\nfour five"
    assert corrupt_spans(text=text, rng=random.Random(0), span_start_rate=0.0, max_span_words=3) == text
    rng = random.Random(0)
    corrupted = corrupt_spans(text=text, rng=rng, span_start_rate=0.999999, max_span_words=1)
    assert corrupted == "<extra_id_0> <extra_id_1> <extra_id_2>\n<extra_id_3> <extra_id_4>"


def test_spans_are_numbered_in_order_and_words_outside_them_are_kept_in_order():
    words = [f"w{i}" for i in range(200)]
    corrupted = corrupt_spans(text=" ".join(words), rng=random.Random(1), span_start_rate=0.2, max_span_words=3)
    tokens = corrupted.split(" ")
    sentinels = [t for t in tokens if t.startswith("<extra_id_")]
    assert sentinels == [f"<extra_id_{i}>" for i in range(len(sentinels))] and len(sentinels) > 10
    kept = [t for t in tokens if not t.startswith("<extra_id_")]
    assert kept == sorted(kept, key=lambda w: int(w[1:])) and 0 < len(kept) < len(words)


def test_rejects_bad_rates():
    with pytest.raises(ValueError, match="span_start_rate"):
        corrupt_spans(text="a b", rng=random.Random(0), span_start_rate=1.0, max_span_words=2)
    with pytest.raises(ValueError, match="max_span_words"):
        corrupt_spans(text="a b", rng=random.Random(0), span_start_rate=0.1, max_span_words=0)


def test_targets_are_title_and_body_and_examples_do_not_depend_on_document_order():
    docs = [Document(user_id="u", doc_id=f"d{i}", timestamp=i, body=f"body {i} " + "word " * 30,
                     title="A title" if i else None) for i in range(3)]
    settings = dict(copies=2, seed=0, span_start_rate=0.3, max_span_words=2)
    forward = {e["example_id"]: e for e in denoising_examples(documents=docs, **settings)}
    backward = {e["example_id"]: e for e in denoising_examples(documents=docs[::-1], **settings)}
    assert forward == backward and len(forward) == 6
    assert forward["u/d1/0"]["targets"] == "A title\n" + docs[1].body == document_text(docs[1])
    assert forward["u/d0/0"]["targets"] == docs[0].body
    assert forward["u/d1/0"]["inputs"] != forward["u/d1/1"]["inputs"]  # two differently corrupted copies


def test_a_prefix_starts_every_input_and_changes_nothing_else():
    docs = [Document(user_id="u", doc_id=f"d{i}", timestamp=i, body=f"body {i} " + "word " * 30) for i in range(2)]
    settings = dict(copies=2, seed=0, span_start_rate=0.3, max_span_words=2)
    plain = list(denoising_examples(documents=docs, **settings))
    prefixed = list(denoising_examples(documents=docs, prefix="Rewrite the passage: ", **settings))
    assert [e["inputs"] for e in prefixed] == ["Rewrite the passage: " + e["inputs"] for e in plain]
    assert [e["targets"] for e in prefixed] == [e["targets"] for e in plain]
