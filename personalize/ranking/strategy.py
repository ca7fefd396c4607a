"""What every ranking strategy (paper, stage 2) takes and returns, and the one tie-breaking rule they share."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple, Protocol, Sequence

from personalize.corpus.document import Document


@dataclasses.dataclass(frozen=True)
class RankingQuery:
    """One example as ranking sees it: `text` is the immediate context x_t (title + first 150 body characters);
    `timestamp` is the current document's, so the candidates are the author's documents strictly before it."""

    query_id: str
    user_id: str
    timestamp: float
    text: str


class RankedEntry(NamedTuple):
    """One ranked entry: a whole document (entry_id = doc_id) or a snippet (entry_id = snippet id).
    A named tuple rather than a dataclass: strategies make one per candidate per example."""

    entry_id: str
    doc_id: str
    score: float
    text: str


class RankingStrategy(Protocol):
    name: str

    def rank(self, *, query: RankingQuery, candidates: Sequence[Document]) -> list[RankedEntry]:
        """All entries of `candidates`, best first."""
        ...


def tie_break_key(*, score: float, document: Document, index: int = 0) -> tuple:
    """Higher score first; among equal scores the more recent document, then the smaller doc id, then the
    earlier snippet, so every strategy's order is deterministic whatever order the candidates came in."""
    return (-score, -document.timestamp, document.doc_id, index)
