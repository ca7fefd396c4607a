"""RankDocDense (paper): the author's documents by dense similarity (GTR embeddings) to x_t."""

from __future__ import annotations

from typing import Sequence

from personalize.corpus.document import Document
from personalize.ranking.scoring import EmbeddingTable
from personalize.ranking.strategy import RankedEntry, RankingQuery, tie_break_key
from personalize.retrieval.document_text import document_text


class RankDocDense:
    """Dot product of the query's vector (keyed by query_id) with each document's (keyed by doc_id)."""

    name = "RankDocDense"

    def __init__(self, *, document_vectors: EmbeddingTable, query_vectors: EmbeddingTable):
        self.document_vectors = document_vectors
        self.query_vectors = query_vectors

    def rank(self, *, query: RankingQuery, candidates: Sequence[Document]) -> list[RankedEntry]:
        if not candidates:
            return []
        query_vector = self.query_vectors.lookup([query.query_id])[0]
        # [candidates, dim] @ [dim] -> [candidates]
        scores = self.document_vectors.lookup([document.doc_id for document in candidates]) @ query_vector
        order = sorted(range(len(candidates)), key=lambda i: tie_break_key(score=float(scores[i]), document=candidates[i]))
        return [
            RankedEntry(
                entry_id=candidates[i].doc_id,
                doc_id=candidates[i].doc_id,
                score=float(scores[i]),
                text=document_text(candidates[i]),
            )
            for i in order
        ]
