"""SumCtx weak labels: the snippets of the ranked entries that best cover the real document d_t.

The paper: for each snippet of d_t, pick the most similar not-yet-chosen snippet of the ranked entries (GTR
embeddings); the label is the join of the picked snippets. The ranked entries' snippets are cut per entry
(`entry_snippets`: each entry as the context shows it, by the lengths the ranking stage records), never from the
joined context: the entries are joined by a newline the sentence splitter does not break on, so a snippet of the
joined text could straddle two past documents. Here the encoder is any `encode(texts) -> [n, dim]`
with L2-normalised rows (similarity = dot product), the picks follow the order of d_t's snippets, ties go to the
earlier ranked snippet, and once every ranked snippet is chosen the remaining d_t snippets pick nothing.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from personalize.ranking.context import entry_pieces
from personalize.retrieval.sentences import split_sentences
from personalize.retrieval.snippets import group_sentences


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


def text_snippets(text: str) -> list[str]:
    """The retrieval stage's snippets of one text: consecutive sentences up to 250 characters."""
    return group_sentences(sentences=split_sentences(text))


def entry_snippets(*, context: Mapping[str, Any], separator: str) -> list[list[str]]:
    """The snippets of each ranked entry of one strategy's context (a ranked record's `contexts[strategy]`).

    Each entry is cut out of the context by its recorded length (`entry_chars`; a ranking made before lengths were
    recorded is cut at the separators) and split into snippets on its own, so no snippet spans two entries.
    """
    pieces = entry_pieces(context=context["text"], lengths=context.get("entry_chars"), separator=separator)
    return [text_snippets(piece) for piece in pieces]


def summary_weak_label(
    *,
    target_snippets: Sequence[str],
    entries: Sequence[Sequence[str]],
    encoder: TextEncoder,
    separator: str = " ",
) -> str:
    """The SumCtx training target of one example: the picked ranked-entry snippets joined in d_t's order.

    `entries` holds each ranked entry's own snippets (`entry_snippets`), so a picked snippet is from one entry.
    """
    candidates = [snippet for snippets in entries for snippet in snippets]
    picked = pick_snippets(target_snippets=target_snippets, entry_snippets=candidates, encoder=encoder)
    return separator.join(candidates[index].strip() for index in picked)
