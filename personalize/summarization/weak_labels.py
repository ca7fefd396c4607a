"""SumCtx weak labels: the snippets of the ranked entries that best cover the real document d_t.

The paper: for each snippet of d_t, pick the most similar not-yet-chosen snippet of the ranked entries (GTR
embeddings); the label is the join of the picked snippets. The ranked entries' snippets are the ranking stage's
own, cut per entry (`entry_snippets`), never re-split from the joined context: the entries are joined by a newline
the sentence splitter does not break on, so a snippet of the joined text could straddle two past documents. Here the encoder is any `encode(texts) -> [n, dim]`
with L2-normalised rows (similarity = dot product), the picks follow the order of d_t's snippets, ties go to the
earlier ranked snippet, and once every ranked snippet is chosen the remaining d_t snippets pick nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Protocol, Sequence

import numpy as np

from personalize.corpus.document import Document
from personalize.retrieval.document_text import document_text
from personalize.retrieval.sentences import split_sentences
from personalize.retrieval.snippets import document_snippets, group_sentences


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
    """The retrieval stage's snippets of a plain text (d_t): consecutive sentences up to 250 characters."""
    return group_sentences(sentences=split_sentences(text))


def shown_pieces(*, context: str, texts: Sequence[str], separator: str) -> list[str]:
    """The part of each entry's text that the joined context shows.

    Inverts the ranking stage's `join_entries`: the texts, in rank order and joined by `separator`, must spell
    `context`, with only the last one cut short. Raises ValueError where they do not.
    """
    pieces: list[str] = []
    position = 0
    for index, text in enumerate(texts):
        if index:
            if not context.startswith(separator, position):
                raise ValueError(f"entry {index} does not follow a {separator!r} separator at character {position}")
            position += len(separator)
        piece = context[position:position + len(text)]
        if not piece or not text.startswith(piece):
            raise ValueError(f"entry {index}'s text is not at character {position} of the context")
        if len(piece) < len(text) and index != len(texts) - 1:
            raise ValueError(f"entry {index} is cut short but is not the last entry")
        pieces.append(piece)
        position += len(piece)
    if position != len(context):
        raise ValueError(f"the context has {len(context) - position} characters after its {len(texts)} entries")
    return pieces


def entry_text(*, entry_id: str, documents: Mapping[str, Document]) -> str:
    """A ranked entry's text as ranking built it: a whole document, or one of its snippets ('doc_id#index')."""
    if entry_id in documents:
        return document_text(documents[entry_id])
    doc_id, _, index = entry_id.rpartition("#")
    if doc_id not in documents or not index.isdigit():
        raise KeyError(f"ranked entry {entry_id!r} is neither a document nor a snippet of one of the documents given")
    snippets = document_snippets(document=documents[doc_id])
    if int(index) >= len(snippets):
        raise KeyError(f"ranked entry {entry_id!r}: document {doc_id!r} has {len(snippets)} snippets")
    return snippets[int(index)].text


def entry_snippets(*, entry_id: str, piece: str, documents: Mapping[str, Document]) -> list[str]:
    """The ranking stage's snippets of one entry, as far as the context shows it (`piece`).

    A document entry: its `document_snippets` (the title its own sentence), cut to the part of the document the
    context holds; a snippet entry is one snippet. Snippets never cross from one entry into the next.
    """
    if entry_id not in documents:
        return [piece]
    document = documents[entry_id]
    if len(piece) < len(document_text(document)):
        if document.title and len(piece) <= len(document.title):
            document = dataclasses.replace(document, title=piece, body="")
        else:
            shown_title = len(document.title) + 1 if document.title else 0
            document = dataclasses.replace(document, body=document.body[:len(piece) - shown_title])
    return [snippet.text for snippet in document_snippets(document=document)]


def summary_weak_label(
    *,
    target_snippets: Sequence[str],
    entry_snippets: Sequence[Sequence[str]],
    encoder: TextEncoder,
    separator: str = " ",
) -> str:
    """The SumCtx training target of one example: the picked ranked-entry snippets joined in d_t's order.

    `entry_snippets` holds each ranked entry's own snippets, so a picked snippet is always from one entry.
    """
    candidates = [snippet for snippets in entry_snippets for snippet in snippets]
    picked = pick_snippets(target_snippets=target_snippets, entry_snippets=candidates, encoder=encoder)
    return separator.join(candidates[index].strip() for index in picked)
