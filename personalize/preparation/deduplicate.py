"""Per-user de-duplication: a re-posted document must not be its own personal context."""

from __future__ import annotations

import hashlib
from typing import Iterable

from personalize.corpus.document import Document


def _content_key(document: Document) -> str:
    text = " ".join((document.title or "").split()) + "\x00" + " ".join(document.body.split())
    return hashlib.sha1(text.lower().encode("utf-8")).hexdigest()


def deduplicate_user_documents(documents: Iterable[Document]) -> tuple[list[Document], int]:
    """Keeps the earliest copy of each (title, body), compared case- and whitespace-insensitively.

    Returns the kept documents in time order (ties broken by doc id) and the number dropped.
    """
    ordered = sorted(documents, key=lambda d: (d.timestamp, d.doc_id))
    seen: set[str] = set()
    kept: list[Document] = []
    for document in ordered:
        key = _content_key(document)
        if key in seen:
            continue
        seen.add(key)
        kept.append(document)
    return kept, len(ordered) - len(kept)
