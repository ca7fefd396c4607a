"""Each rule of the paper's data preparation, with a test that fails if the rule is removed."""

import collections
import random

import pytest

from personalize.corpus.document import Document
from personalize.preparation.immediate_context import immediate_context
from personalize.preparation.prepare import prepare_corpus, user_examples

LONG = "x" * 301


def doc(user, index, *, t=None, body=None, title=None):
    return Document(user_id=user, doc_id=f"{user}-{index}", timestamp=float(index if t is None else t),
                    body=body if body is not None else f"{LONG} {user} {index}", title=title)


def examples_of(documents, **kwargs):
    settings = dict(min_target_chars=300, min_past_documents=2, immediate_context_chars=150, not_target=collections.Counter())
    settings.update(kwargs)
    return user_examples(sorted(documents, key=lambda d: d.timestamp), **settings)


def test_a_300_character_document_is_not_a_target_but_301_is():
    documents = [doc("u", 0), doc("u", 1), doc("u", 2, body="a" * 300), doc("u", 3, body="a" * 301)]
    reasons = collections.Counter()
    assert [e.doc_id for e in examples_of(documents, not_target=reasons)] == ["u-3"]
    assert reasons["body of 300 characters or fewer"] == 1


def test_a_target_needs_two_earlier_documents():
    documents = [doc("u", i) for i in range(4)]
    assert [e.doc_id for e in examples_of(documents)] == ["u-2", "u-3"]


def test_same_timestamp_documents_are_not_personal_context():
    documents = [doc("u", 0, t=0), doc("u", 1, t=5), doc("u", 2, t=5), doc("u", 3, t=9)]
    by_id = {e.doc_id: e for e in examples_of(documents, min_past_documents=1)}
    assert by_id["u-1"].context_doc_ids == ("u-0",)
    assert by_id["u-2"].context_doc_ids == ("u-0",)
    assert by_id["u-3"].context_doc_ids == ("u-0", "u-1", "u-2")


def test_personal_context_is_strictly_earlier_and_in_time_order():
    documents = [doc("u", i, t=10 - i) for i in range(5)]
    latest = max(examples_of(documents), key=lambda e: e.timestamp)
    assert latest.context_doc_ids == ("u-4", "u-3", "u-2", "u-1")


def test_immediate_context_is_title_then_first_150_characters():
    body = "".join(chr(ord("a") + i % 26) for i in range(400))
    assert immediate_context(title="My title", body=body) == "My title\n" + body[:150]
    assert immediate_context(title=None, body=body) == body[:150]
    assert immediate_context(title="  ", body=body, num_chars=10) == body[:10]


@pytest.mark.parametrize("num_chars", [150, 60])
def test_prepare_corpus_gives_every_example_its_title_then_the_first_characters_of_its_body(num_chars):
    """x_t as `prepare_corpus` writes it into each Example, spelled out here without the helper: a title (stripped)
    and a newline, then the body's first `num_chars` characters; an untitled or blank-titled document has the body
    part alone."""
    titles = [None, "Trip to Lisbon", "  A padded title  ", "   ", "", None, "Last one"]
    documents = [doc("u", i, title=titles[i], body="".join(chr(ord("a") + (i + k) % 26) for k in range(400)))
                 for i in range(len(titles))]
    prepared = prepare_corpus(documents, min_examples_per_user=5, immediate_context_chars=num_chars)
    by_doc = {d.doc_id: d for d in documents}
    assert len(prepared.examples) == 5  # u-2 .. u-6: two earlier documents each
    expected = {"u-2": "A padded title\n", "u-3": "", "u-4": "", "u-5": "", "u-6": "Last one\n"}
    for example in prepared.examples:
        body = by_doc[example.doc_id].body
        assert example.immediate_context == expected[example.doc_id] + body[:num_chars], example.doc_id
        assert example.target == body and len(body) > num_chars


def corpus(num_users=40, docs_per_user=12):
    return [doc(f"user{u:02d}", i) for u in range(num_users) for i in range(docs_per_user)]


def test_users_with_fewer_than_five_examples_are_dropped():
    documents = corpus(3, 7) + [doc("few", i) for i in range(6)]  # 4 examples for "few"
    prepared = prepare_corpus(documents)
    assert "few" not in prepared.documents_by_user
    assert prepared.report.users_dropped_few_examples == 1
    assert prepared.report.examples_dropped_with_users == 4
    assert {e.user_id for e in prepared.examples} == {"user00", "user01", "user02"}


def test_at_most_50_examples_per_user_chosen_deterministically():
    documents = [doc("busy", i) for i in range(80)]
    first = prepare_corpus(documents)
    shuffled = documents[:]
    random.Random(3).shuffle(shuffled)
    again = prepare_corpus(shuffled)
    other_seed = prepare_corpus(documents, seed=1)
    ids = sorted(e.doc_id for e in first.examples)
    assert len(ids) == 50 and first.report.examples_over_cap == 28
    assert ids == sorted(e.doc_id for e in again.examples)
    assert ids != sorted(e.doc_id for e in other_seed.examples)


def test_duplicates_are_removed_per_user_keeping_the_earliest():
    documents = corpus(1, 8) + [doc("user00", 99, body="X" + LONG), doc("user00", 100, body="x" + LONG.upper() + "  ")]
    prepared = prepare_corpus(documents)
    assert prepared.report.duplicates_removed == 1
    kept = {d.doc_id for d in prepared.documents_by_user["user00"]}
    assert "user00-99" in kept and "user00-100" not in kept


def test_the_same_text_by_two_users_is_not_a_duplicate():
    documents = [doc(u, i, body=f"{LONG} {i}") for u in ("a", "b") for i in range(8)]
    assert prepare_corpus(documents).report.duplicates_removed == 0


def test_no_user_appears_in_two_splits_and_fractions_hold():
    prepared = prepare_corpus(corpus(100, 8))
    splits_of_user = collections.defaultdict(set)
    for example in prepared.examples:
        splits_of_user[example.user_id].add(example.split)
    assert all(len(s) == 1 for s in splits_of_user.values())
    assert prepared.report.users == {"train": 85, "validation": 5, "test": 10}


def test_user_split_is_deterministic_from_the_seed():
    def assignment(seed):
        return {e.user_id: e.split for e in prepare_corpus(corpus(60, 8), seed=seed).examples}

    assert assignment(0) == assignment(0)
    assert assignment(0) != assignment(1)


def test_temporal_split_puts_each_users_latest_examples_in_test():
    prepared = prepare_corpus(corpus(4, 22), split_mode="temporal")
    for user in ("user00", "user03"):
        ordered = sorted((e for e in prepared.examples if e.user_id == user), key=lambda e: e.timestamp)
        assert [e.split for e in ordered] == ["train"] * 17 + ["validation"] * 1 + ["test"] * 2


def test_counts_account_for_every_document():
    documents = corpus(10, 9) + [doc("short", i, body="tiny") for i in range(9)]
    prepared = prepare_corpus(documents)
    report = prepared.report
    kept_examples = sum(report.examples.values())
    targets = kept_examples + report.examples_over_cap + report.examples_dropped_with_users
    documents_of_users = report.documents_in - report.duplicates_removed - report.duplicate_doc_ids
    assert targets + sum(report.not_target.values()) == documents_of_users


def test_unknown_split_mode_is_rejected():
    with pytest.raises(ValueError, match="split_mode"):
        prepare_corpus([], split_mode="random")
