"""The one text of a document that retrieval indexes and ranking shows: its title (if any), then its body."""

from __future__ import annotations

from personalize.corpus.document import Document


def document_text(document: Document) -> str:
    """Title and body joined by a newline, so a title is searchable and ends its own sentence."""
    if document.title:
        return f"{document.title}\n{document.body}"
    return document.body
