"""Author-distinction pairs: exact balance, determinism, real same/different authors, training users only."""

import collections
import importlib.util
import pathlib

import pytest

from personalize.author_distinction.pairs import (author_distinction_input, author_pairs, pair_users,
                                                  training_pairs)
from personalize.corpus.document import Document

_spec = importlib.util.spec_from_file_location("tiny_corpus", pathlib.Path(__file__).parents[1] / "tasks" / "tiny_corpus.py")
tiny_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_corpus)


def _documents():
    return {user: [Document(user_id=user, doc_id=f"{user}{i}", timestamp=float(i), body=f"{user} text {i}")
                   for i in range(count)] for user, count in {"a": 3, "b": 2, "c": 1}.items()}


def test_balance_labels_and_authors():
    pairs = author_pairs(documents_by_user=_documents(), num_pairs=101, seed=5)
    assert collections.Counter(p["targets"] for p in pairs) == {"true": 51, "false": 50}
    for pair in pairs:
        if pair["targets"] == "true":
            assert pair["user_a"] == pair["user_b"] and pair["doc_a"] != pair["doc_b"] and pair["user_a"] != "c"
        else:
            assert pair["user_a"] != pair["user_b"]
    assert pairs[0]["inputs"].startswith("Predict whether two passages are from the same author. passage 1: ")


def test_deterministic_from_the_seed():
    first = author_pairs(documents_by_user=_documents(), num_pairs=20, seed=1)
    assert first == author_pairs(documents_by_user=_documents(), num_pairs=20, seed=1)
    assert first != author_pairs(documents_by_user=_documents(), num_pairs=20, seed=2)


def test_input_format_and_passage_cut():
    assert author_distinction_input(passage_a="x", passage_b="y") == (
        "Predict whether two passages are from the same author. passage 1: x passage 2: y")
    pairs = author_pairs(documents_by_user=_documents(), num_pairs=4, seed=0, max_passage_chars=3)
    assert all(p["inputs"].endswith(f"passage 2: {p['user_b']} t") for p in pairs)


def test_too_few_authors_fail():
    with pytest.raises(ValueError, match="two documents"):
        author_pairs(documents_by_user={"a": _documents()["a"]}, num_pairs=2)


def test_training_pairs_use_training_only_users(tmp_path):
    prepared = tiny_corpus.write_prepared(str(tmp_path / "prepared"))
    pairs = training_pairs(prepared_dir=prepared, seed=0)
    assert len(pairs) == 18  # one pair per training example by default
    assert pair_users(pairs) <= {"u0", "u1", "u2", "u3", "u4", "u5"}
    assert pairs == training_pairs(prepared_dir=prepared, seed=0)
