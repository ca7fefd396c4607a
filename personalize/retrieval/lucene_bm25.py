"""BM25 through Pyserini/Lucene: one on-disk index of every document, each query filtered to the author's past.

The index holds one Lucene document per `Document`: `id` (the doc id, stored, and as doc values,
which Anserini sorts equal scores by, ascending), `contents` (the document
text, analyzed by Pyserini's default English analyzer, with frequencies, positions and length norms), `raw` (the text, stored), `user_id` (an exact, unanalyzed keyword) and `timestamp` (a
double point, also stored). It is written with Lucene's IndexWriter from Pyserini's bundled jar rather
than Pyserini's `LuceneIndexer`, because that indexer keeps only `id` and `contents` and so cannot filter.

A query is Pyserini's bag-of-words query over `contents` (what `LuceneSearcher.search(str)` runs) as a
required clause, plus two filter clauses: `user_id` equals the author, `timestamp` < the current
document's. Filters do not score and do not change the collection statistics, so scores are the plain
BM25 scores against the whole index, and the hits are exactly the author's earlier documents that share
a term with the query; nothing is post-filtered, so no hit can be lost to a too small k.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Iterable

from personalize.corpus.document import Document
from personalize.retrieval.document_text import document_text
from personalize.retrieval.java import start_jvm

CONTENTS_FIELD = "contents"


@dataclasses.dataclass(frozen=True)
class LuceneHit:
    doc_id: str
    score: float


class _Lucene:
    """The Java classes used here, looked up once the JVM runs."""

    def __init__(self):
        from jnius import autoclass, cast

        self.cast = cast

        self.Paths = autoclass("java.nio.file.Paths")
        self.FSDirectory = autoclass("org.apache.lucene.store.FSDirectory")
        self.IndexWriter = autoclass("org.apache.lucene.index.IndexWriter")
        self.IndexWriterConfig = autoclass("org.apache.lucene.index.IndexWriterConfig")
        self.OpenMode = autoclass("org.apache.lucene.index.IndexWriterConfig$OpenMode")
        self.Document = autoclass("org.apache.lucene.document.Document")
        self.TextField = autoclass("org.apache.lucene.document.TextField")
        self.Store = autoclass("org.apache.lucene.document.Field$Store")
        self.StringField = autoclass("org.apache.lucene.document.StringField")
        self.BinaryDocValuesField = autoclass("org.apache.lucene.document.BinaryDocValuesField")
        self.BytesRef = autoclass("org.apache.lucene.util.BytesRef")
        self.StoredField = autoclass("org.apache.lucene.document.StoredField")
        self.DoublePoint = autoclass("org.apache.lucene.document.DoublePoint")
        self.DirectoryReader = autoclass("org.apache.lucene.index.DirectoryReader")
        self.IndexSearcher = autoclass("org.apache.lucene.search.IndexSearcher")
        self.Sort = autoclass("org.apache.lucene.search.Sort")
        self.SortField = autoclass("org.apache.lucene.search.SortField")
        self.SortFieldType = autoclass("org.apache.lucene.search.SortField$Type")
        self.BM25Similarity = autoclass("org.apache.lucene.search.similarities.BM25Similarity")
        self.BooleanQueryBuilder = autoclass("org.apache.lucene.search.BooleanQuery$Builder")
        self.Occur = autoclass("org.apache.lucene.search.BooleanClause$Occur")
        self.TermQuery = autoclass("org.apache.lucene.search.TermQuery")
        self.Term = autoclass("org.apache.lucene.index.Term")
        self.BagOfWords = autoclass("io.anserini.search.query.BagOfWordsQueryGenerator")


def _lucene() -> _Lucene:
    start_jvm()
    return _Lucene()


def build_lucene_index(*, documents: Iterable[Document], index_dir: str | os.PathLike) -> int:
    """Writes a fresh index of `documents` into `index_dir` (replacing one there); returns the count."""
    java = _lucene()
    from pyserini.analysis import get_lucene_analyzer

    Path(index_dir).mkdir(parents=True, exist_ok=True)
    config = java.IndexWriterConfig(get_lucene_analyzer())
    config.setOpenMode(java.OpenMode.CREATE)
    config.setSimilarity(java.BM25Similarity())
    writer = java.IndexWriter(java.FSDirectory.open(java.Paths.get(os.fspath(index_dir))), config)
    count = 0
    try:
        for document in documents:
            text = document_text(document)
            entry = java.Document()
            entry.add(java.StringField("id", document.doc_id, java.Store.YES))
            entry.add(java.BinaryDocValuesField("id", java.BytesRef(document.doc_id.encode("utf-8"))))
            entry.add(java.TextField(CONTENTS_FIELD, text, java.Store.NO))
            entry.add(java.StoredField("raw", text))
            entry.add(java.StringField("user_id", document.user_id, java.Store.YES))
            entry.add(java.DoublePoint("timestamp", float(document.timestamp)))
            entry.add(java.StoredField("timestamp", float(document.timestamp)))
            writer.addDocument(entry)
            count += 1
        writer.commit()
    finally:
        writer.close()
    return count


class LuceneBm25Searcher:
    """BM25 search of one author's documents written strictly before a time, in Lucene.

    Searches with Lucene's IndexSearcher (from Pyserini's jar) rather than Pyserini's `LuceneSearcher`,
    which rounds scores to 4 decimals (Anserini's ScoreTiesAdjusterReranker); ordering is Anserini's
    all the same: score descending, then doc id ascending.
    """

    def __init__(self, *, index_dir: str | os.PathLike, k1: float = 0.9, b: float = 0.4):
        if not any(Path(index_dir).glob("segments_*")):
            raise FileNotFoundError(f"no Lucene index in {index_dir} (build one with build_lucene_index)")
        java = self._java = _lucene()
        from pyserini.analysis import get_lucene_analyzer

        self._reader = java.DirectoryReader.open(java.FSDirectory.open(java.Paths.get(os.fspath(index_dir))))
        self._searcher = java.IndexSearcher(java.cast("org.apache.lucene.index.IndexReader", self._reader))
        self._searcher.setSimilarity(java.BM25Similarity(float(k1), float(b)))
        self._stored = self._searcher.storedFields()
        self._sort = java.Sort(java.SortField.FIELD_SCORE, java.SortField("id", java.SortFieldType.STRING_VAL))
        self._analyzer = get_lucene_analyzer()
        self._bag_of_words = java.BagOfWords()

    def search(self, *, query: str, user_id: str, before: float, k: int) -> list[LuceneHit]:
        """The top-k of `user_id`'s documents with timestamp < `before` that share a term with `query`."""
        java = self._java
        terms = self._bag_of_words.buildQuery(CONTENTS_FIELD, self._analyzer, query)
        builder = java.BooleanQueryBuilder()
        builder.add(terms, java.Occur.MUST)
        builder.add(java.TermQuery(java.Term("user_id", user_id)), java.Occur.FILTER)
        builder.add(java.DoublePoint.newRangeQuery("timestamp", -math.inf, math.nextafter(float(before), -math.inf)), java.Occur.FILTER)
        top = self._searcher.search(builder.build(), max(int(k), 1), self._sort, True)
        return [LuceneHit(doc_id=self._stored.document(hit.doc).get("id"), score=float(hit.score)) for hit in top.scoreDocs]

    def close(self) -> None:
        self._reader.close()
