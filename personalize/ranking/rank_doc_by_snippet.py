"""RankDocBySnpt (paper): documents ranked by their best snippet, score(d, x) = max_j score(s_j, x).

Keeps RankSnippet's precise snippet matching but returns whole documents, which fixes RankSnippet's lack
of diversity (many snippets of one document) and RankDocDense's weak embeddings of long documents.
A document without any text has no snippet and is left out.
"""

from __future__ import annotations

from typing import Sequence

from personalize.corpus.document import Document
from personalize.ranking.snippet_scores import SnippetScorer
from personalize.ranking.strategy import RankedEntry, RankingQuery, tie_break_key
from personalize.retrieval.document_text import document_text


class RankDocBySnpt:
    name = "RankDocBySnpt"

    def __init__(self, *, scorer: SnippetScorer):
        self.scorer = scorer

    def rank(self, *, query: RankingQuery, candidates: Sequence[Document]) -> list[RankedEntry]:
        best: dict[str, float] = {}
        for item in self.scorer.score(query=query, candidates=candidates):
            doc_id = item.document.doc_id
            best[doc_id] = max(best.get(doc_id, item.score), item.score)
        ranked = sorted(
            (document for document in candidates if document.doc_id in best),
            key=lambda document: tie_break_key(score=best[document.doc_id], document=document),
        )
        return [
            RankedEntry(entry_id=document.doc_id, doc_id=document.doc_id, score=best[document.doc_id], text=document_text(document))
            for document in ranked
        ]
