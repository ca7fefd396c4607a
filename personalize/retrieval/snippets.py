"""Snippets (paper, stage 1): consecutive sentences of one document, appended until the snippet reaches
250 characters or the document ends.

Dense retrieval embeds snippets rather than whole documents because a T5 encoder embeds long documents
poorly; the paper found sentences too short, hence this middle granularity. A title is its own first
sentence. Sentences in a snippet are joined by one space.
"""

from __future__ import annotations

import dataclasses

from personalize.corpus.document import Document
from personalize.retrieval.sentences import split_sentences

SNIPPET_MIN_CHARS = 250


@dataclasses.dataclass(frozen=True)
class Snippet:
    """The `index`-th snippet (from 0) of document `doc_id`."""

    doc_id: str
    index: int
    text: str

    @property
    def snippet_id(self) -> str:
        """Unique across the corpus when doc ids are; the key of snippet embeddings."""
        return f"{self.doc_id}#{self.index}"


def group_sentences(*, sentences: list[str], min_chars: int = SNIPPET_MIN_CHARS) -> list[str]:
    """Joins consecutive sentences until a group reaches `min_chars` characters; the rest is the last group."""
    if min_chars < 1:
        raise ValueError(f"min_chars must be positive, got {min_chars}")
    groups = []
    current = ""
    for sentence in sentences:
        current = f"{current} {sentence}" if current else sentence
        if len(current) >= min_chars:
            groups.append(current)
            current = ""
    if current:
        groups.append(current)
    return groups


def document_snippets(*, document: Document, min_chars: int = SNIPPET_MIN_CHARS) -> list[Snippet]:
    """The snippets of a document, in order (none for a document without text)."""
    sentences = (split_sentences(document.title) if document.title else []) + split_sentences(document.body)
    return [
        Snippet(doc_id=document.doc_id, index=index, text=text)
        for index, text in enumerate(group_sentences(sentences=sentences, min_chars=min_chars))
    ]
