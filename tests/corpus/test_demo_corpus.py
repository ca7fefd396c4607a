"""The demo corpus is deterministic, and personal context measurably helps on it."""

from personalize.corpus.demo_corpus import generate_demo_corpus
from personalize.preparation.prepare import prepare_corpus


def words(text: str) -> set[str]:
    return set(text.lower().replace(".", " ").replace(",", " ").split())


def test_same_seed_same_corpus_other_seed_other_corpus():
    assert list(generate_demo_corpus(num_users=3)) == list(generate_demo_corpus(num_users=3))
    assert list(generate_demo_corpus(num_users=3, seed=1)) != list(generate_demo_corpus(num_users=3))


def test_every_user_has_enough_examples_for_the_paper_rules():
    prepared = prepare_corpus(generate_demo_corpus(num_users=20))
    assert prepared.report.users_dropped_few_examples == 0
    assert len(prepared.documents_by_user) == 20


def test_own_past_documents_cover_more_of_the_target_than_the_immediate_context_or_another_user():
    prepared = prepare_corpus(generate_demo_corpus(num_users=20))
    documents = {d.doc_id: d for docs in prepared.documents_by_user.values() for d in docs}
    users = sorted(prepared.documents_by_user)
    own, other, immediate = [], [], []
    for example in prepared.examples:
        target = words(example.target)
        past = set().union(*(words(documents[i].body) for i in example.context_doc_ids))
        stranger = users[(users.index(example.user_id) + 1) % len(users)]
        foreign = set().union(*(words(d.body) for d in prepared.documents_by_user[stranger][:len(example.context_doc_ids)]))
        own.append(len(target & past) / len(target))
        other.append(len(target & foreign) / len(target))
        immediate.append(len(target & words(example.immediate_context)) / len(target))
    mean = lambda values: sum(values) / len(values)
    assert mean(own) > mean(immediate) + 0.3
    assert mean(own) > mean(other) + 0.35


def test_the_voice_is_in_past_documents_not_in_the_immediate_context():
    """x_t names the topic; the user's favourite words and signature show only after it and in past documents."""
    from personalize.corpus import demo_corpus

    prepared = prepare_corpus(generate_demo_corpus(num_users=20))
    documents = {d.doc_id: d for docs in prepared.documents_by_user.values() for d in docs}
    voice = set(demo_corpus._VOICE_WORDS)
    in_past, in_immediate, in_target = 0, 0, 0
    for example in prepared.examples:
        target_voice = words(example.target) & voice
        past = set().union(*(words(documents[i].body) for i in example.context_doc_ids))
        in_target += len(target_voice)
        in_past += len(target_voice & past)
        in_immediate += len(target_voice & words(example.immediate_context))
    assert in_target > 3 * len(prepared.examples)  # several favourite words in every target
    assert in_past / in_target > 0.95
    assert in_immediate / in_target < 0.1
