"""In-process BM25 over a user's few past documents, reproducing Lucene's (Pyserini's) scores exactly.

Per example the paper ranks only the author's earlier documents, a few dozen, so scoring them directly
is much faster than a round trip through the JVM. To give Lucene's numbers bit for bit:
- terms come from `analysis.analyze`, Pyserini's default English analyzer re-implemented;
- the query is a bag of words: each distinct query term once, weighted by its count in the query;
- Lucene's BM25Similarity (k1=0.9, b=0.4 as Pyserini): per term
  `w - w / (1 + tf / (k1 * (1 - b + b * dl / avgdl)))` with `w = count * idf`,
  `idf = ln(1 + (N - df + 0.5) / (df + 0.5))`, all in float32 like Lucene; the document length dl is
  Lucene's one-byte encoded norm (exact below 24 terms, 4 significant bits above); term scores are
  summed in float64 and rounded to float32, as Lucene's disjunction does.

Collection statistics (N, df, avgdl): `statistics="index"` (the default) takes them from the whole
collection, which is what a Lucene index restricted to the user's past documents by a filter does, so
scores and top-k equal Lucene's. `statistics="candidates"` takes them from the candidate set alone
(a per-user IDF); it ranks differently and exists to study that choice.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from typing import Iterable, Literal, Mapping, Sequence

import numpy as np

from personalize.retrieval.analysis import analyze

Statistics = Literal["index", "candidates"]


def _int_to_int4(value: int) -> int:
    bits = value.bit_length()
    if bits < 4:
        return value
    shift = bits - 4
    return ((value >> shift) & 0x07) | ((shift + 1) << 3)


def _int4_to_int(encoded: int) -> int:
    bits = encoded & 0x07
    shift = (encoded >> 3) - 1
    return bits if shift == -1 else (bits | 0x08) << shift


_NORM_FREE_VALUES = 255 - _int_to_int4(2**31 - 1)  # = 24 lengths stored exactly


def encode_length(length: int) -> int:
    """Lucene's one-byte norm of a document length (SmallFloat.intToByte4)."""
    if length < _NORM_FREE_VALUES:
        return length
    return _NORM_FREE_VALUES + _int_to_int4(length - _NORM_FREE_VALUES)


def decode_length(encoded: int) -> int:
    """The length Lucene scores with for a norm byte (SmallFloat.byte4ToInt)."""
    if encoded < _NORM_FREE_VALUES:
        return encoded
    return _NORM_FREE_VALUES + _int4_to_int(encoded - _NORM_FREE_VALUES)


_DECODED_LENGTHS = np.array([decode_length(i) for i in range(256)], dtype=np.float32)


@dataclasses.dataclass(frozen=True)
class AnalyzedDocument:
    """A document as BM25 sees it: term frequencies and Lucene's norm byte of its length."""

    doc_id: str
    term_freqs: Mapping[str, int]
    length: int
    norm: int

    @classmethod
    def from_text(cls, *, doc_id: str, text: str) -> "AnalyzedDocument":
        terms = analyze(text)
        return cls(doc_id=doc_id, term_freqs=collections.Counter(terms), length=len(terms), norm=encode_length(len(terms)))


@dataclasses.dataclass(frozen=True)
class CollectionStatistics:
    """N (documents with at least one term), total term count, and document frequency per term."""

    doc_count: int
    total_terms: int
    doc_freq: Mapping[str, int]

    @classmethod
    def from_documents(cls, documents: Iterable[AnalyzedDocument]) -> "CollectionStatistics":
        doc_freq: collections.Counter = collections.Counter()
        doc_count = 0
        total_terms = 0
        for document in documents:
            if document.length == 0:
                continue
            doc_count += 1
            total_terms += document.length
            doc_freq.update(document.term_freqs.keys())
        return cls(doc_count=doc_count, total_terms=total_terms, doc_freq=dict(doc_freq))

    def average_length(self) -> np.float32:
        return np.float32(self.total_terms / self.doc_count) if self.doc_count else np.float32(1.0)

    def idf(self, term: str) -> float:
        """Lucene's idf, computed in double; callers round it to float32 as Lucene does."""
        df = self.doc_freq.get(term, 0)
        return math.log(1.0 + (self.doc_count - df + 0.5) / (df + 0.5))


def query_terms(query: str) -> dict[str, int]:
    """The bag of words of a query: analyzed terms and how often each occurs (its boost in Lucene)."""
    return dict(collections.Counter(analyze(query)))


class Bm25Scorer:
    """Scores candidate documents for a query the way a filtered Lucene BM25 search would."""

    def __init__(
        self,
        *,
        index_statistics: CollectionStatistics | None = None,
        statistics: Statistics = "index",
        k1: float = 0.9,
        b: float = 0.4,
    ):
        if statistics not in ("index", "candidates"):
            raise ValueError(f"statistics must be 'index' or 'candidates', got {statistics!r}")
        if statistics == "index" and index_statistics is None:
            raise ValueError("statistics='index' needs index_statistics (CollectionStatistics.from_documents over the whole index)")
        self.statistics = statistics
        self.index_statistics = index_statistics
        self.k1 = np.float32(k1)
        self.b = np.float32(b)
        self._norm_cache: dict[float, np.ndarray] = {}

    def _inverse_norms(self, average_length: np.float32) -> np.ndarray:
        """Lucene's per-norm-byte cache `1 / (k1 * ((1 - b) + b * dl / avgdl))`, in float32."""
        key = float(average_length)
        table = self._norm_cache.get(key)
        if table is None:
            one = np.float32(1.0)
            table = one / (self.k1 * ((one - self.b) + self.b * _DECODED_LENGTHS / average_length))
            self._norm_cache[key] = table
        return table

    def score(self, *, query: str | Mapping[str, int], candidates: Sequence[AnalyzedDocument]) -> np.ndarray:
        """float32 scores, one per candidate (0 where no query term occurs)."""
        terms = query_terms(query) if isinstance(query, str) else dict(query)
        if not candidates or not terms:
            return np.zeros(len(candidates), dtype=np.float32)
        stats = self.index_statistics if self.statistics == "index" else CollectionStatistics.from_documents(candidates)
        inverse_norms = self._inverse_norms(stats.average_length())[[d.norm for d in candidates]]
        # [terms, candidates] term frequencies and [terms, 1] weights (count * idf), float32 as in Lucene.
        row_of = {term: row for row, term in enumerate(terms)}
        matches = [
            (row_of[term], column, term_freqs[term])
            for column, term_freqs in enumerate(document.term_freqs for document in candidates)
            for term in row_of.keys() & term_freqs.keys()
        ]
        freqs = np.zeros((len(row_of), len(candidates)), dtype=np.float32)
        if matches:
            rows, columns, values = zip(*matches)
            freqs[rows, columns] = values
        idfs = np.array([stats.idf(term) for term in terms], dtype=np.float32)
        weights = (np.array(list(terms.values()), dtype=np.float32) * idfs)[:, None]
        term_scores = weights - weights / (np.float32(1.0) + freqs * inverse_norms)
        # A term absent from a document scores exactly 0; Lucene sums clause scores in double, then rounds.
        return term_scores.astype(np.float64).sum(axis=0).astype(np.float32)
