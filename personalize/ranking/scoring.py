"""Dense scoring inputs: the encoder contract and precomputed embeddings looked up by id.

Dense strategies never encode per example: documents, snippets and queries are embedded once (by any
`TextEncoder`, e.g. GTR in personalize/retrieval/dense/) into `EmbeddingTable`s, and ranking only looks
vectors up and takes dot products (= cosine, the vectors being L2-normalised).
"""

from __future__ import annotations

import os
from typing import Protocol, Sequence

import numpy as np


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """float32 [len(texts), dim], each row L2-normalised."""
        ...


class EmbeddingTable:
    """Vectors keyed by id (doc id, snippet id or query id)."""

    def __init__(self, *, ids: Sequence[str], vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(ids):
            raise ValueError(f"vectors must be [len(ids)={len(ids)}, dim], got shape {vectors.shape}")
        self.ids = list(ids)
        self.vectors = vectors
        self._row = {entry_id: row for row, entry_id in enumerate(self.ids)}
        if len(self._row) != len(self.ids):
            raise ValueError("ids must be unique")

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, entry_id: str) -> bool:
        return entry_id in self._row

    def lookup(self, ids: Sequence[str]) -> np.ndarray:
        """[len(ids), dim]; a missing id is an error that names it (embeddings must be precomputed)."""
        rows = []
        for entry_id in ids:
            row = self._row.get(entry_id)
            if row is None:
                raise KeyError(f"no embedding for {entry_id!r} ({len(self.ids)} ids in the table)")
            rows.append(row)
        return self.vectors[np.asarray(rows, dtype=np.int64)] if rows else np.zeros((0, self.vectors.shape[1]), np.float32)

    def save(self, path: str | os.PathLike) -> None:
        np.savez(path, ids=np.asarray(self.ids, dtype=np.str_), vectors=self.vectors)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "EmbeddingTable":
        with np.load(path) as data:
            return cls(ids=[str(entry_id) for entry_id in data["ids"]], vectors=data["vectors"])


def embed_texts(*, encoder: TextEncoder, ids: Sequence[str], texts: Sequence[str], batch_size: int = 64) -> EmbeddingTable:
    """Encodes `texts` in batches into a table keyed by `ids`."""
    if len(ids) != len(texts):
        raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
    batches = [encoder.encode(list(texts[start : start + batch_size])) for start in range(0, len(texts), batch_size)]
    if not batches:
        raise ValueError("nothing to embed")
    return EmbeddingTable(ids=ids, vectors=np.concatenate(batches, axis=0))
