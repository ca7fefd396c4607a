"""Ranking the author's past documents (paper, stage 2): RecentDoc, RankDocBM25, RankDocDense, RankSnippet, RankDocBySnpt."""

from personalize.ranking.context import CONTEXT_MAX_CHARS, Ranking, join_entries, rank_example
from personalize.ranking.registry import STRATEGIES, make_strategy
from personalize.ranking.strategy import RankedEntry, RankingQuery, RankingStrategy

__all__ = [
    "CONTEXT_MAX_CHARS",
    "RankedEntry",
    "Ranking",
    "RankingQuery",
    "RankingStrategy",
    "STRATEGIES",
    "join_entries",
    "make_strategy",
    "rank_example",
]
