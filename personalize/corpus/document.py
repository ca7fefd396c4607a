"""The unit every stage works on: one document written by one user at one time."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping


@dataclasses.dataclass(frozen=True)
class Document:
    """A user's document.

    `timestamp` is seconds since the Unix epoch (UTC), so documents of any source order the
    same way; `title` is None when the source has none (blog posts, comments).
    """

    user_id: str
    doc_id: str
    timestamp: float
    body: str
    title: str | None = None
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "doc_id": self.doc_id,
            "timestamp": self.timestamp,
            "title": self.title,
            "body": self.body,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> "Document":
        return cls(
            user_id=str(record["user_id"]),
            doc_id=str(record["doc_id"]),
            timestamp=float(record["timestamp"]),
            body=str(record["body"]),
            title=record.get("title"),
            metadata=dict(record.get("metadata") or {}),
        )
