"""The ranked entries joined into the one past-context string the later stages read (truncated to 2,500 characters)."""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from personalize.corpus.document import Document
from personalize.ranking.strategy import RankingQuery, RankingStrategy

CONTEXT_MAX_CHARS = 2500
ENTRY_SEPARATOR = "\n"


def join_entries(*, texts: Sequence[str], max_chars: int = CONTEXT_MAX_CHARS, separator: str = ENTRY_SEPARATOR) -> tuple[str, int]:
    """(joined string of at most `max_chars` characters, number of entries at least partly in it).

    The same rule for every strategy, as in the paper. An entry is cut where the budget ends; no
    separator is left dangling at the end.
    """
    if max_chars < 0:
        raise ValueError(f"max_chars must be >= 0, got {max_chars}")
    parts: list[str] = []
    used = 0
    for text in texts:
        prefix = separator if parts else ""
        room = max_chars - used - len(prefix)
        if room <= 0:
            break
        piece = text[:room]
        parts.append(prefix + piece)
        used += len(prefix) + len(piece)
        if len(piece) < len(text):
            break
    return "".join(parts), len(parts)


def entry_lengths(*, texts: Sequence[str], context: str, separator: str = ENTRY_SEPARATOR) -> list[int]:
    """How many characters of each entry `join_entries` put into `context` (the last one possibly cut)."""
    lengths: list[int] = []
    position = 0
    for text in texts:
        if lengths:
            position += len(separator)
        if position >= len(context):
            break
        length = min(len(text), len(context) - position)
        lengths.append(length)
        position += length
    return lengths


def entry_pieces(*, context: str, lengths: Sequence[int] | None, separator: str = ENTRY_SEPARATOR) -> list[str]:
    """The entries as they stand in `context`, from their recorded lengths; without lengths (a ranking made before
    they were recorded), the pieces between separators."""
    if not context:
        return []
    if lengths is None:
        return context.split(separator)
    pieces, position = [], 0
    for length in lengths:
        if pieces:
            position += len(separator)
        pieces.append(context[position:position + length])
        position += length
    if separator.join(pieces) != context:
        raise ValueError(f"entry lengths {list(lengths)} do not cut the context into its entries")
    return pieces


@dataclasses.dataclass(frozen=True)
class Ranking:
    """A strategy's result for one example: the entries that made it (at least partly) into `context`."""

    query_id: str
    strategy: str
    entry_ids: tuple[str, ...]
    scores: tuple[float, ...]
    texts: tuple[str, ...]
    context: str
    num_candidates: int

    def to_json(self) -> dict[str, Any]:
        return {
            "query_id": self.query_id,
            "strategy": self.strategy,
            "entry_ids": list(self.entry_ids),
            "scores": list(self.scores),
            "texts": list(self.texts),
            "context": self.context,
            "num_candidates": self.num_candidates,
        }


def rank_example(
    *,
    strategy: RankingStrategy,
    query: RankingQuery,
    candidates: Sequence[Document],
    max_chars: int = CONTEXT_MAX_CHARS,
    separator: str = ENTRY_SEPARATOR,
) -> Ranking:
    """Ranks `candidates` (the author's documents before the query's timestamp) and builds the context."""
    for document in candidates:
        if document.user_id != query.user_id or document.timestamp >= query.timestamp:
            raise ValueError(
                f"candidate {document.doc_id!r} (user {document.user_id!r}, t={document.timestamp}) is not a past "
                f"document of user {query.user_id!r} before t={query.timestamp} (query {query.query_id!r})"
            )
    entries = strategy.rank(query=query, candidates=candidates)
    context, kept = join_entries(texts=[entry.text for entry in entries], max_chars=max_chars, separator=separator)
    entries = entries[:kept]
    return Ranking(
        query_id=query.query_id,
        strategy=strategy.name,
        entry_ids=tuple(entry.entry_id for entry in entries),
        scores=tuple(float(entry.score) for entry in entries),
        texts=tuple(entry.text for entry in entries),
        context=context,
        num_candidates=len(candidates),
    )
