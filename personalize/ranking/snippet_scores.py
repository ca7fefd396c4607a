"""Dense scores of every snippet of the candidate documents, shared by RankSnippet and RankDocBySnpt."""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from personalize.corpus.document import Document
from personalize.ranking.scoring import EmbeddingTable
from personalize.ranking.strategy import RankingQuery
from personalize.retrieval.snippets import SNIPPET_MIN_CHARS, Snippet, document_snippets


@dataclasses.dataclass(frozen=True)
class ScoredSnippet:
    snippet: Snippet
    document: Document
    score: float


class SnippetScorer:
    """Cuts documents into snippets once (cached by doc id) and scores them by dot product with the query."""

    def __init__(self, *, snippet_vectors: EmbeddingTable, query_vectors: EmbeddingTable, snippet_min_chars: int = SNIPPET_MIN_CHARS):
        self.snippet_vectors = snippet_vectors
        self.query_vectors = query_vectors
        self.snippet_min_chars = snippet_min_chars
        self._snippets: dict[str, list[Snippet]] = {}

    def snippets(self, document: Document) -> list[Snippet]:
        cached = self._snippets.get(document.doc_id)
        if cached is None:
            cached = document_snippets(document=document, min_chars=self.snippet_min_chars)
            self._snippets[document.doc_id] = cached
        return cached

    def score(self, *, query: RankingQuery, candidates: Sequence[Document]) -> list[ScoredSnippet]:
        pairs = [(snippet, document) for document in candidates for snippet in self.snippets(document)]
        if not pairs:
            return []
        query_vector = self.query_vectors.lookup([query.query_id])[0]
        # [snippets, dim] @ [dim] -> [snippets]
        scores = self.snippet_vectors.lookup([snippet.snippet_id for snippet, _ in pairs]) @ query_vector
        return [ScoredSnippet(snippet=snippet, document=document, score=float(score)) for (snippet, document), score in zip(pairs, np.asarray(scores))]
