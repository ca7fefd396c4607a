"""The ranking strategies by the names the paper's tables use."""

from __future__ import annotations

from typing import Any

from personalize.ranking.rank_doc_bm25 import RankDocBM25
from personalize.ranking.rank_doc_by_snippet import RankDocBySnpt
from personalize.ranking.rank_doc_dense import RankDocDense
from personalize.ranking.rank_snippet import RankSnippet
from personalize.ranking.recent_doc import RecentDoc
from personalize.ranking.strategy import RankingStrategy

STRATEGIES: dict[str, type] = {
    "RecentDoc": RecentDoc,
    "RankDocBM25": RankDocBM25,
    "RankDocDense": RankDocDense,
    "RankSnippet": RankSnippet,
    "RankDocBySnpt": RankDocBySnpt,
}


def make_strategy(name: str, **resources: Any) -> RankingStrategy:
    """Builds strategy `name` from its resources (e.g. `source=` for RankDocBM25, `scorer=` for the snippet ones)."""
    try:
        factory = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown ranking strategy {name!r}; known: {sorted(STRATEGIES)}") from None
    return factory(**resources)
