"""SumCtx weak labels: the snippets of the ranked entries that best cover the real document d_t.

The paper: for each snippet of d_t, pick the most similar not-yet-chosen snippet of the ranked entries (GTR
embeddings); the label is the join of the picked snippets. Here the encoder is any `encode(texts) -> [n, dim]`
with L2-normalised rows (similarity = dot product), the picks follow the order of d_t's snippets, ties go to the
earlier ranked snippet, and once every ranked snippet is chosen the remaining d_t snippets pick nothing.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

import numpy as np


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """[n] texts -> [n, dim] float32, rows L2-normalised."""
        ...


def pick_snippets(*, target_snippets: Sequence[str], entry_snippets: Sequence[str], encoder: TextEncoder) -> list[int]:
    """For each target snippet in order, the index of its most similar entry snippet not chosen before."""
    if not target_snippets or not entry_snippets:
        return []
    vectors = np.asarray(encoder.encode(list(target_snippets) + list(entry_snippets)), dtype=np.float64)
    if vectors.shape[0] != len(target_snippets) + len(entry_snippets):
        raise ValueError(f"encoder returned {vectors.shape[0]} vectors for "
                         f"{len(target_snippets) + len(entry_snippets)} texts")
    # [targets, dim] x [entries, dim] -> [targets, entries]
    similarity = vectors[: len(target_snippets)] @ vectors[len(target_snippets):].T
    available = np.ones(len(entry_snippets), dtype=bool)
    picked = []
    for scores in similarity:
        if not available.any():
            break
        best = int(np.argmax(np.where(available, scores, -np.inf)))
        available[best] = False
        picked.append(best)
    return picked


def default_snippet_splitter() -> Callable[[str], list[str]]:
    """The retrieval stage's snippets (consecutive sentences up to 250 characters), so labels use the same units."""
    from personalize.retrieval.sentences import split_sentences
    from personalize.retrieval.snippets import group_sentences

    return lambda text: group_sentences(sentences=split_sentences(text))


def summary_weak_label(
    *,
    target: str,
    ranked_text: str,
    encoder: TextEncoder,
    split_snippets: Callable[[str], list[str]],
    separator: str = " ",
) -> str:
    """The SumCtx training target of one example: the picked ranked-entry snippets joined in d_t's order."""
    entry_snippets = split_snippets(ranked_text)
    picked = pick_snippets(target_snippets=split_snippets(target), entry_snippets=entry_snippets, encoder=encoder)
    return separator.join(entry_snippets[index].strip() for index in picked)
