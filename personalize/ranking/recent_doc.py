"""RecentDoc (paper baseline): the author's most recent documents first."""

from __future__ import annotations

from typing import Sequence

from personalize.corpus.document import Document
from personalize.ranking.strategy import RankedEntry, RankingQuery, tie_break_key
from personalize.retrieval.document_text import document_text


class RecentDoc:
    """Score = the document's timestamp; equal timestamps fall back to the shared tie-break (doc id)."""

    name = "RecentDoc"

    def rank(self, *, query: RankingQuery, candidates: Sequence[Document]) -> list[RankedEntry]:
        ordered = sorted(candidates, key=lambda document: tie_break_key(score=document.timestamp, document=document))
        return [
            RankedEntry(entry_id=document.doc_id, doc_id=document.doc_id, score=document.timestamp, text=document_text(document))
            for document in ordered
        ]
