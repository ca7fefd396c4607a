"""RankDocBM25 (paper): the author's documents by BM25 score against the immediate context x_t.

Two interchangeable score sources give the same scores: `InProcessBm25` (the fast default; Lucene's
analyzer and BM25 re-implemented, see personalize/retrieval/bm25.py) and `LuceneBm25` (a filtered query
against an on-disk Lucene index through Pyserini's jar). Documents sharing no term with x_t score 0 and
come last, most recent first.
"""

from __future__ import annotations

from typing import Mapping, Protocol, Sequence

import numpy as np

from personalize.corpus.document import Document
from personalize.ranking.strategy import RankedEntry, RankingQuery, tie_break_key
from personalize.retrieval.bm25 import AnalyzedDocument, Bm25Scorer, DocumentTable
from personalize.retrieval.document_text import document_text
from personalize.retrieval.lucene_bm25 import LuceneBm25Searcher


class Bm25Source(Protocol):
    def scores(self, *, query: RankingQuery, candidates: Sequence[Document]) -> np.ndarray:
        """float32 BM25 score per candidate."""
        ...


class InProcessBm25:
    """Scores with `Bm25Scorer`. Each document is analyzed once (or passed in precomputed) and stored in its
    user's `DocumentTable`, so a query only looks up its candidates' rows and gathers its terms' frequencies
    from a table small enough to stay in cache."""

    def __init__(self, *, scorer: Bm25Scorer, analyzed: Mapping[str, AnalyzedDocument] | None = None):
        self.scorer = scorer
        self._analyzed: dict[str, AnalyzedDocument] = dict(analyzed or {})
        self._tables: dict[str, tuple[DocumentTable, dict[str, int]]] = {}

    def _analysis(self, document: Document) -> AnalyzedDocument:
        analyzed = self._analyzed.get(document.doc_id)
        if analyzed is None:
            analyzed = AnalyzedDocument.from_text(doc_id=document.doc_id, text=document_text(document))
        return analyzed

    def _rows(self, *, user_id: str, candidates: Sequence[Document]) -> tuple[DocumentTable, np.ndarray]:
        """The user's table (candidates seen for the first time added to it) and the candidates' rows."""
        table, row_of = self._tables.get(user_id) or self._tables.setdefault(user_id, (DocumentTable(), {}))
        rows = [row_of.get(document.doc_id) for document in candidates]
        if None in rows:
            new = {document.doc_id: document for document, row in zip(candidates, rows) if row is None}
            added = table.add(self._analysis(document) for document in new.values())
            row_of.update(zip(new.keys(), added.tolist()))
            rows = [row_of[document.doc_id] for document in candidates]
        return table, np.array(rows, dtype=np.int64)

    def scores(self, *, query: RankingQuery, candidates: Sequence[Document]) -> np.ndarray:
        table, rows = self._rows(user_id=query.user_id, candidates=candidates)
        return self.scorer.score_rows(query=query.text, table=table, rows=rows)


class LuceneBm25:
    """Scores with a user- and time-filtered Lucene query; every hit must be one of the candidates."""

    def __init__(self, *, searcher: LuceneBm25Searcher):
        self.searcher = searcher

    def scores(self, *, query: RankingQuery, candidates: Sequence[Document]) -> np.ndarray:
        position = {document.doc_id: i for i, document in enumerate(candidates)}
        scores = np.zeros(len(candidates), dtype=np.float32)
        if not candidates:
            return scores
        hits = self.searcher.search(query=query.text, user_id=query.user_id, before=query.timestamp, k=len(candidates))
        for hit in hits:
            if hit.doc_id not in position:
                raise ValueError(
                    f"Lucene returned {hit.doc_id!r} for query {query.query_id!r}, which is not among its candidates: "
                    "the index and the candidate documents disagree"
                )
            scores[position[hit.doc_id]] = hit.score
        return scores


class RankDocBM25:
    name = "RankDocBM25"

    def __init__(self, *, source: Bm25Source):
        self.source = source

    def rank(self, *, query: RankingQuery, candidates: Sequence[Document]) -> list[RankedEntry]:
        scores = self.source.scores(query=query, candidates=candidates).tolist()
        keys = [tie_break_key(score=score, document=document) for score, document in zip(scores, candidates)]
        return [
            RankedEntry(entry_id=candidates[i].doc_id, doc_id=candidates[i].doc_id, score=scores[i], text=document_text(candidates[i]))
            for i in sorted(range(len(candidates)), key=keys.__getitem__)
        ]
