"""The embedded demo corpus: small, deterministic, and built so that personal context helps.

Every user writes about a few topics of their own, has recurring signature phrases, and each new
document re-uses sentences from that user's earlier documents on the same topic. A model that
reads the right past documents can therefore copy material that the immediate context alone
cannot predict; which past documents are "right" is visible from the title and the opening.
"""

from __future__ import annotations

import random
from typing import Iterator

from personalize.corpus.document import Document

_ONSETS = ["b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "br", "cl", "st", "tr", "gr", "pl"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
_CODAS = ["", "n", "r", "s", "t", "l", "nd", "rk", "st"]
_FUNCTION = ["the", "a", "my", "our", "this", "that", "every", "some"]
_LINKS = ["with", "after", "before", "near", "about", "without", "during", "beside"]
_VERBS = ["likes", "needs", "finds", "keeps", "brings", "makes", "takes", "shows", "builds", "fixes"]


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))


def _sentence(rng: random.Random, words: list[str]) -> str:
    subject, obj, extra = rng.sample(words, 3)
    text = f"{rng.choice(_FUNCTION)} {subject} {rng.choice(_VERBS)} {rng.choice(_FUNCTION)} {obj} {rng.choice(_LINKS)} {extra}"
    return text[0].upper() + text[1:] + "."


def generate_demo_corpus(
    *,
    num_users: int = 40,
    documents_per_user: tuple[int, int] = (14, 22),
    num_topics: int = 30,
    topics_per_user: int = 3,
    reuse_probability: float = 0.6,
    seed: int = 0,
) -> Iterator[Document]:
    """Yields documents of `num_users` users, the same ones for the same arguments."""
    rng = random.Random(seed)
    topics = [{"name": _word(rng, 2), "words": [_word(rng, rng.choice([1, 2, 3])) for _ in range(12)]} for _ in range(num_topics)]
    start = 1_104_537_600.0  # 2005-01-01
    for user_index in range(num_users):
        user_rng = random.Random(f"{seed}:{user_index}")
        user_id = f"user{user_index:03d}"
        own_topics = user_rng.sample(topics, topics_per_user)
        user_words = [_word(user_rng, 2) for _ in range(6)]
        signatures = [" ".join(_word(user_rng, user_rng.choice([1, 2])) for _ in range(5)).capitalize() + "." for _ in range(3)]
        sign_off = f"Cheers, {_word(user_rng, 2).capitalize()}"
        past_sentences: dict[str, list[str]] = {topic["name"]: [] for topic in own_topics}
        timestamp = start + user_rng.uniform(0, 86_400 * 30)
        for doc_index in range(user_rng.randint(*documents_per_user)):
            topic = user_rng.choice(own_topics)
            vocabulary = topic["words"] + user_words
            sentences = [_sentence(user_rng, vocabulary) for _ in range(user_rng.randint(3, 5))]
            pool = past_sentences[topic["name"]]
            if pool:
                reused = [s for s in pool if user_rng.random() < reuse_probability][:6]
                sentences = sentences[:2] + reused + sentences[2:]
            sentences.insert(user_rng.randint(1, len(sentences)), user_rng.choice(signatures))
            pool.extend(sentences[:3])
            body = " ".join(sentences) + f" {sign_off}"
            title = f"{topic['name'].capitalize()} {user_rng.choice(topic['words'])}"
            timestamp += user_rng.uniform(3_600, 86_400 * 10)
            yield Document(
                user_id=user_id,
                doc_id=f"{user_id}-{doc_index:03d}",
                timestamp=round(timestamp),
                body=body,
                title=title,
                metadata={"topic": topic["name"]},
            )
