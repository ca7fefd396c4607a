"""RankSnippet (paper): snippets of the author's documents by dense similarity to x_t (entries are snippets)."""

from __future__ import annotations

from typing import Sequence

from personalize.corpus.document import Document
from personalize.ranking.snippet_scores import SnippetScorer
from personalize.ranking.strategy import RankedEntry, RankingQuery, tie_break_key


class RankSnippet:
    name = "RankSnippet"

    def __init__(self, *, scorer: SnippetScorer):
        self.scorer = scorer

    def rank(self, *, query: RankingQuery, candidates: Sequence[Document]) -> list[RankedEntry]:
        scored = self.scorer.score(query=query, candidates=candidates)
        scored.sort(key=lambda item: tie_break_key(score=item.score, document=item.document, index=item.snippet.index))
        return [
            RankedEntry(entry_id=item.snippet.snippet_id, doc_id=item.document.doc_id, score=item.score, text=item.snippet.text)
            for item in scored
        ]
