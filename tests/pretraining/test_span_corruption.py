"""T5's span corruption: sentinels for dropped spans in, sentinel + span out; the noise mask's counts as T5's."""

import numpy as np
import pytest

from personalize.corpus.document import Document
from personalize.pretraining.corpus import span_corruption_examples
from personalize.pretraining.span_corruption import (chunk_tokens_for, corrupt_with_mask, example_seed,
                                                     lengths_after_corruption, random_spans_noise_mask,
                                                     span_corruption)

VOCAB = 100  # <extra_id_0> = 99, <extra_id_1> = 98, ...


def test_hand_worked_example():
    tokens = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    mask = [0, 0, 1, 1, 0, 0, 0, 1, 0, 0]
    inputs, targets = corrupt_with_mask(tokens=tokens, noise_mask=np.array(mask, bool), vocab_size=VOCAB)
    assert inputs == [10, 11, 99, 14, 15, 16, 98, 18, 19]
    assert targets == [99, 12, 13, 98, 17, 97]


def _runs(mask):
    return [(i, j) for i, j in zip(*[np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])) == d)
                                     for d in (1, -1)])]


@pytest.mark.parametrize("length", [20, 100, 568])
def test_noise_mask_has_t5s_counts_and_starts_with_kept_tokens(length):
    mask = random_spans_noise_mask(length=length, noise_density=0.15, mean_noise_span_length=3.0,
                                   rng=np.random.default_rng(3))
    noise = int(round(length * 0.15))
    assert mask.shape == (length,) and int(mask.sum()) == noise
    assert len(_runs(mask)) == max(int(round(noise / 3.0)), 1)
    assert not mask[0]


def test_same_seed_same_example_other_seed_other_example():
    tokens = list(range(3, 203))
    first = span_corruption(tokens=tokens, vocab_size=VOCAB + 200, seed=7)
    assert span_corruption(tokens=tokens, vocab_size=VOCAB + 200, seed=7) == first
    assert span_corruption(tokens=tokens, vocab_size=VOCAB + 200, seed=8) != first


def test_inputs_and_targets_together_give_back_the_tokens():
    vocab_size = 1000
    tokens = list(np.random.default_rng(0).integers(3, 800, size=300))
    inputs, targets = span_corruption(tokens=tokens, vocab_size=vocab_size, seed=1)
    spans, current = {}, None
    for token in targets:
        if token >= 800:
            current = token
            spans[current] = []
        else:
            spans[current].append(token)
    rebuilt = [t for token in inputs for t in (spans[token] if token >= 800 else [token])]
    assert rebuilt == tokens
    dropped = sum(len(v) for v in spans.values())
    assert dropped == 45 and len(inputs) == 300 - 45 + 15


def test_chunk_length_matches_t5s_random_spans_helper():
    assert chunk_tokens_for(inputs_length=512, noise_density=0.15, mean_noise_span_length=3.0) == 568
    assert lengths_after_corruption(tokens_length=568, noise_density=0.15, mean_noise_span_length=3.0) == (512, 114)


def test_examples_do_not_depend_on_document_order_and_chunks_fit():
    docs = [Document(user_id="u", doc_id=f"d{i}", timestamp=i, body=" ".join(["w"] * (90 + i))) for i in range(4)]
    encode = lambda text: [5 + (len(word) + i) % 7 for i, word in enumerate(text.split())]  # noqa: E731
    settings = dict(encode=encode, vocab_size=VOCAB, chunk_tokens=40, copies=2, seed=0, noise_density=0.15,
                    mean_noise_span_length=3.0)
    forward = {e["example_id"]: e for e in span_corruption_examples(documents=docs, **settings)}
    backward = {e["example_id"]: e for e in span_corruption_examples(documents=docs[::-1], **settings)}
    assert forward == backward
    assert {key.rsplit("/", 2)[0] for key in forward} == {f"u/d{i}" for i in range(4)}
    assert len(forward) == 2 * sum(-(-(90 + i) // 40) for i in range(4))
    # Two different corruptions (as in T5, a chunk short enough for one noise span always ends in it).
    assert forward["u/d0/0/0"]["inputs"] != forward["u/d0/0/1"]["inputs"]
    assert example_seed(seed=0, key="u/d0/0/0") != example_seed(seed=1, key="u/d0/0/0")


def test_too_many_spans_for_the_sentinels_is_refused():
    mask = np.zeros(404, bool)
    mask[1::4] = True
    with pytest.raises(ValueError, match="more than the 100 sentinels"):
        corrupt_with_mask(tokens=list(range(404)), noise_mask=mask, vocab_size=1000)
