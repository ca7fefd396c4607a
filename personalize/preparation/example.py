"""A generation example: the current document, its immediate context, and its personal context."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping


@dataclasses.dataclass(frozen=True)
class Example:
    """One current document d_t of a user, ready for ranking and generation.

    `context_doc_ids` are the user's documents strictly earlier than d_t, oldest first; the
    documents themselves live once in the prepared dataset's document shards.
    """

    example_id: str
    user_id: str
    doc_id: str
    timestamp: float
    title: str | None
    target: str
    immediate_context: str
    context_doc_ids: tuple[str, ...]
    split: str

    def to_json(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        record["context_doc_ids"] = list(self.context_doc_ids)
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> "Example":
        values = dict(record)
        values["context_doc_ids"] = tuple(values["context_doc_ids"])
        return cls(**values)
