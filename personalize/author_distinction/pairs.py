"""Author-distinction pairs (paper, multitask): documents of training-only users, half same author, half not.

Only users with training examples and no validation or test example provide documents, so a held-out user's
writing never reaches training through this task. Pairs are a pure function of the documents and the seed.
"""

from __future__ import annotations

import random
from typing import Iterable, Mapping, Sequence

from personalize.corpus.document import Document
from personalize.preparation.dataset import PreparedDataset

INSTRUCTION = "Predict whether two passages are from the same author."
LABELS = {True: "true", False: "false"}


def author_distinction_input(*, passage_a: str, passage_b: str) -> str:
    return f"{INSTRUCTION} passage 1: {passage_a} passage 2: {passage_b}"


def training_only_users(*, prepared: PreparedDataset) -> set[str]:
    """Users with training examples and none in validation or test (all train users under the user split)."""
    train = {example.user_id for example in prepared.examples("train")}
    held_out = {example.user_id for split in ("validation", "test") for example in prepared.examples(split)}
    return train - held_out


def author_pairs(
    *,
    documents_by_user: Mapping[str, Sequence[Document]],
    num_pairs: int,
    seed: int = 0,
    max_passage_chars: int | None = 1250,
) -> list[dict[str, str]]:
    """`num_pairs` pairs, exactly ceil(n/2) positive ("true": two different documents of one user) and the rest
    negative ("false": documents of two different users), in a seeded random order.

    Each passage is cut to `max_passage_chars` so that the second passage survives token truncation (our
    choice; the paper gives no length: 1,250 is half of its 2,500-character past-passages budget).
    """
    users = sorted(u for u, docs in documents_by_user.items() if docs)
    same_author_users = [u for u in users if len(documents_by_user[u]) >= 2]
    if num_pairs > 0 and (not same_author_users or len(users) < 2):
        raise ValueError("author distinction needs a user with two documents and at least two users with documents")
    rng = random.Random(seed)
    labels = [True] * ((num_pairs + 1) // 2) + [False] * (num_pairs // 2)
    rng.shuffle(labels)

    def text(document: Document) -> str:
        return document.body if max_passage_chars is None else document.body[:max_passage_chars]

    pairs = []
    for index, same in enumerate(labels):
        if same:
            user = rng.choice(same_author_users)
            first, second = rng.sample(list(documents_by_user[user]), 2)
        else:
            user_a, user_b = rng.sample(users, 2)
            first, second = rng.choice(documents_by_user[user_a]), rng.choice(documents_by_user[user_b])
        pairs.append({
            "pair_id": f"pair-{seed}-{index}",
            "doc_a": first.doc_id,
            "user_a": first.user_id,
            "doc_b": second.doc_id,
            "user_b": second.user_id,
            "inputs": author_distinction_input(passage_a=text(first), passage_b=text(second)),
            "targets": LABELS[same],
        })
    return pairs


def training_pairs(
    *, prepared_dir: str, num_pairs: int | None = None, seed: int = 0, max_passage_chars: int | None = 1250
) -> list[dict[str, str]]:
    """Pairs from a prepared dataset's training-only users; `num_pairs` defaults to the number of training
    examples, so that a 1:1 mixture sees each task's data about equally often."""
    prepared = PreparedDataset(prepared_dir)
    users = training_only_users(prepared=prepared)
    if not users:
        raise ValueError(f"{prepared_dir}: no user is only in the training split (a temporal split?); "
                         "author distinction needs training-only users")
    documents: dict[str, list[Document]] = {}
    for document in prepared.documents():
        if document.user_id in users:
            documents.setdefault(document.user_id, []).append(document)
    if num_pairs is None:
        num_pairs = sum(1 for _ in prepared.examples("train"))
    return author_pairs(documents_by_user=documents, num_pairs=num_pairs, seed=seed, max_passage_chars=max_passage_chars)


def pair_users(pairs: Iterable[Mapping[str, str]]) -> set[str]:
    """Every user whose writing appears in `pairs` (for leak checks)."""
    return {user for pair in pairs for user in (pair["user_a"], pair["user_b"])}
