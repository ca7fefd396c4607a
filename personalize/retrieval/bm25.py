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

Speed: the ranking stage scores many queries against the same few documents of a user, so their term
frequencies and norms are stored once in a `DocumentTable` (numpy arrays) and each query gathers its
[terms, candidates] frequencies in one indexing call instead of a Python loop per candidate.
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
    counts: dict[str, int] = {}
    for term in analyze(query):
        counts[term] = counts.get(term, 0) + 1
    return counts


class _GrowingArray:
    """A numpy array appended to in place (capacity doubles), so adding documents a few at a time stays linear."""

    def __init__(self, dtype: type):
        self._data = np.empty(64, dtype=dtype)
        self._size = 0

    def extend(self, values: np.ndarray) -> None:
        end = self._size + len(values)
        if end > len(self._data):
            grown = np.empty(max(end, 2 * len(self._data)), dtype=self._data.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : end] = values
        self._size = end

    @property
    def values(self) -> np.ndarray:
        return self._data[: self._size]


class DocumentTable:
    """Analyzed documents as arrays, so a query's term frequencies over any of them are one numpy gather.

    Each added document is a row with its norm byte and length; frequencies are a dense [term id, row]
    matrix (uint16, wider only if a frequency needs it). Dense is affordable because a table holds one
    user's documents, a few dozen sharing a few thousand terms. Term id 0 is all zeros: it stands for
    query terms no stored document has. Capacity doubles, so documents may arrive a few at a time.
    """

    def __init__(self) -> None:
        self._term_id: dict[str, int] = {}
        self._freqs = np.zeros((64, 16), dtype=np.uint16)
        self._norms = _GrowingArray(np.uint8)
        self._lengths = _GrowingArray(np.int64)

    def __len__(self) -> int:
        return len(self._norms.values)

    def _reserve(self, *, terms: int, rows: int, max_freq: int) -> None:
        dtype = self._freqs.dtype if max_freq <= np.iinfo(self._freqs.dtype).max else np.uint32
        capacity = self._freqs.shape
        wanted = tuple(have if size <= have else max(size, 2 * have) for size, have in zip((terms, rows), capacity))
        if wanted != capacity or dtype != self._freqs.dtype:
            grown = np.zeros(wanted, dtype=dtype)
            grown[: capacity[0], : capacity[1]] = self._freqs
            self._freqs = grown

    def add(self, documents: Iterable[AnalyzedDocument]) -> np.ndarray:
        """Appends each document as a new row; returns their rows (int64), in order."""
        first = len(self)
        term_id = self._term_id
        columns: list[int] = []
        rows: list[int] = []
        freqs: list[int] = []
        norms: list[int] = []
        lengths: list[int] = []
        for row, document in enumerate(documents, start=first):
            for term, freq in document.term_freqs.items():
                columns.append(term_id.setdefault(term, len(term_id) + 1))
                freqs.append(freq)
            rows.extend([row] * len(document.term_freqs))
            norms.append(document.norm)
            lengths.append(document.length)
        self._reserve(terms=len(term_id) + 1, rows=first + len(norms), max_freq=max(freqs, default=0))
        self._freqs[columns, rows] = freqs
        self._norms.extend(np.array(norms, dtype=np.uint8))
        self._lengths.extend(np.array(lengths, dtype=np.int64))
        return np.arange(first, first + len(norms), dtype=np.int64)

    def term_freqs(self, *, terms: Iterable[str], rows: np.ndarray) -> np.ndarray:
        """[terms, rows] float32 frequency of each term in each row's document (0 where it does not occur)."""
        term_id = self._term_id
        columns = np.array([term_id.get(term, 0) for term in terms], dtype=np.int64)
        return self._freqs[columns[:, None], rows].astype(np.float32)

    def norms(self, rows: np.ndarray) -> np.ndarray:
        return self._norms.values[rows]

    def lengths(self, rows: np.ndarray) -> np.ndarray:
        return self._lengths.values[rows]


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
        self._index_idf_cache: dict[str, float] = {}

    def _inverse_norms(self, average_length: np.float32) -> np.ndarray:
        """Lucene's per-norm-byte cache `1 / (k1 * ((1 - b) + b * dl / avgdl))`, in float32."""
        key = float(average_length)
        table = self._norm_cache.get(key)
        if table is None:
            one = np.float32(1.0)
            table = one / (self.k1 * ((one - self.b) + self.b * _DECODED_LENGTHS / average_length))
            self._norm_cache[key] = table
        return table

    def _index_idf(self, term: str) -> float:
        idf = self._index_idf_cache.get(term)
        if idf is None:
            idf = self._index_idf_cache[term] = self.index_statistics.idf(term)
        return idf

    def score(self, *, query: str | Mapping[str, int], candidates: Sequence[AnalyzedDocument]) -> np.ndarray:
        """float32 scores, one per candidate (0 where no query term occurs)."""
        table = DocumentTable()
        return self.score_rows(query=query, table=table, rows=table.add(candidates))

    def score_rows(self, *, query: str | Mapping[str, int], table: DocumentTable, rows: np.ndarray) -> np.ndarray:
        """float32 scores of the documents at `rows` (int64) of `table`, in that order.

        The fast path for many queries against the same documents: they are analyzed and stored once.
        """
        terms = query_terms(query) if isinstance(query, str) else dict(query)
        if not len(rows) or not terms:
            return np.zeros(len(rows), dtype=np.float32)
        # [terms, candidates] term frequencies and [terms, 1] weights (count * idf), float32 as in Lucene.
        freqs = table.term_freqs(terms=terms, rows=rows)
        if self.statistics == "index":
            average_length = self.index_statistics.average_length()
            idfs = [self._index_idf(term) for term in terms]
        else:
            # The candidates' own statistics (CollectionStatistics.from_documents over them), from the table.
            lengths = table.lengths(rows)
            doc_count = int(np.count_nonzero(lengths))
            average_length = np.float32(int(lengths.sum()) / doc_count) if doc_count else np.float32(1.0)
            idfs = [math.log(1.0 + (doc_count - df + 0.5) / (df + 0.5)) for df in np.count_nonzero(freqs, axis=1).tolist()]
        inverse_norms = self._inverse_norms(average_length)[table.norms(rows)]
        weights = (np.array(list(terms.values()), dtype=np.float32) * np.array(idfs, dtype=np.float32))[:, None]
        term_scores = weights - weights / (np.float32(1.0) + freqs * inverse_norms)
        # A term absent from a document scores exactly 0; Lucene sums clause scores in double, then rounds.
        return term_scores.astype(np.float64).sum(axis=0).astype(np.float32)
