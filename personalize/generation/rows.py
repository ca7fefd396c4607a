"""The paper's experiment rows (Table 2) as data: which inputs each generation row puts in the prompt."""

from __future__ import annotations

import dataclasses

RANKINGS = ("RecentDoc", "RankDocBM25", "RankDocDense", "RankSnippet", "RankDocBySnpt")
SUMMARIES = ("SumCtxInd", "SumCtx")
KEYWORDS = ("SynCtxInd", "SynCtx")
GENERATION_ROWS = ("ImmedCtx", "UserID", *RANKINGS, *(f"+{v}" for v in SUMMARIES + KEYWORDS))
MULTITASK_ROW = "+AuthorPred"


@dataclasses.dataclass(frozen=True)
class Row:
    """One generation row: the ranking strategy of its past passages and the additions it uses (None: absent)."""

    name: str
    ranking: str | None = None
    summary: str | None = None
    keywords: str | None = None
    user_id: bool = False


def row_slug(name: str) -> str:
    """The row's part of a task name: lower case, without the paper's '+' ('+SumCtx' -> 'sumctx')."""
    return name.lstrip("+").lower()


def experiment_rows(*, base_ranking: str = "RankDocBySnpt", base_summary: str = "SumCtx") -> list[Row]:
    """All generation rows; summaries sit on `base_ranking`, keywords on `base_summary` (the paper: best of each)."""
    if base_ranking not in RANKINGS:
        raise ValueError(f"base_ranking {base_ranking!r} is not one of {RANKINGS}")
    if base_summary not in SUMMARIES:
        raise ValueError(f"base_summary {base_summary!r} is not one of {SUMMARIES}")
    rows = [Row("ImmedCtx"), Row("UserID", user_id=True)]
    rows += [Row(strategy, ranking=strategy) for strategy in RANKINGS]
    rows += [Row(f"+{variant}", ranking=base_ranking, summary=variant) for variant in SUMMARIES]
    rows += [Row(f"+{variant}", ranking=base_ranking, summary=base_summary, keywords=variant) for variant in KEYWORDS]
    return rows
