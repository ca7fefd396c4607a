"""Ranked contexts of one user's examples, for every strategy: the single code path of tests, the CLI and Beam.

Per user, everything a strategy needs is built once: the documents' BM25 analysis, and one encoder call for the
texts the dense strategies compare (the candidate documents, their snippets and the examples' immediate
contexts), so nothing is encoded per example. An encoder with an on-disk cache (retrieval/dense/cache.py) makes a
text encoded by an earlier run or another user free.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from personalize.corpus.document import Document
from personalize.preparation.example import Example
from personalize.ranking import (CONTEXT_MAX_CHARS, STRATEGIES, RankingQuery, RankingStrategy, make_strategy,
                                 rank_example)
from personalize.ranking.context import ENTRY_SEPARATOR, entry_lengths
from personalize.ranking.rank_doc_bm25 import InProcessBm25
from personalize.ranking.scoring import EmbeddingTable, TextEncoder
from personalize.ranking.snippet_scores import SnippetScorer
from personalize.retrieval.bm25 import AnalyzedDocument, Bm25Scorer, CollectionStatistics
from personalize.retrieval.document_text import document_text
from personalize.retrieval.snippets import document_snippets

DENSE_STRATEGIES = frozenset({"RankDocDense", "RankSnippet", "RankDocBySnpt"})
SNIPPET_STRATEGIES = frozenset({"RankSnippet", "RankDocBySnpt"})
BM25_STATISTICS = ("index", "candidates")

EncoderFactory = Callable[[], TextEncoder]


@dataclasses.dataclass(frozen=True)
class RankingSettings:
    """What a ranked-contexts directory depends on besides its input and the encoder's weights.

    `bm25_statistics`: "index" takes BM25's N, df and average length from every document of the prepared
    dataset (what a Lucene index filtered to the user's past documents computes: Lucene's scores exactly);
    "candidates" from the user's candidate documents alone.
    """

    strategies: tuple[str, ...]
    max_chars: int = CONTEXT_MAX_CHARS
    separator: str = ENTRY_SEPARATOR
    bm25_statistics: str = "index"

    def __post_init__(self):
        if not self.strategies:
            raise ValueError(f"no ranking strategy given; known: {sorted(STRATEGIES)}")
        unknown = [name for name in self.strategies if name not in STRATEGIES]
        if unknown:
            raise ValueError(f"unknown ranking strategies {unknown}; known: {sorted(STRATEGIES)}")
        if len(set(self.strategies)) != len(self.strategies):
            raise ValueError(f"a strategy is listed twice: {list(self.strategies)}")
        if self.bm25_statistics not in BM25_STATISTICS:
            raise ValueError(f"bm25_statistics must be one of {BM25_STATISTICS}, got {self.bm25_statistics!r}")

    @property
    def needs_encoder(self) -> bool:
        return bool(DENSE_STRATEGIES & set(self.strategies))

    @property
    def needs_index_statistics(self) -> bool:
        return "RankDocBM25" in self.strategies and self.bm25_statistics == "index"

    def to_json(self) -> dict[str, Any]:
        return {"strategies": list(self.strategies), "max_chars": self.max_chars, "separator": self.separator,
                "bm25_statistics": self.bm25_statistics}


def analyzed_document(document: Document) -> AnalyzedDocument:
    return AnalyzedDocument.from_text(doc_id=document.doc_id, text=document_text(document))


def index_statistics(documents: Iterable[Document]) -> CollectionStatistics:
    """BM25 collection statistics over every document (the in-process path; Beam combines the same counts)."""
    return CollectionStatistics.from_documents(analyzed_document(document) for document in documents)


def _embedding_groups(*, candidates: Sequence[Document], examples: Sequence[Example], strategies: set[str]
                      ) -> dict[str, tuple[list[str], list[str]]]:
    """What a user's dense strategies embed: name -> (ids, texts) for queries, documents and/or snippets."""
    groups: dict[str, tuple[list[str], list[str]]] = {
        "query": ([e.example_id for e in examples], [e.immediate_context for e in examples])}
    if "RankDocDense" in strategies:
        groups["document"] = ([d.doc_id for d in candidates], [document_text(d) for d in candidates])
    if SNIPPET_STRATEGIES & strategies:
        snippets = [s for d in candidates for s in document_snippets(document=d)]
        groups["snippet"] = ([s.snippet_id for s in snippets], [s.text for s in snippets])
    return groups


def _candidates(documents: Sequence[Document], examples: Sequence[Example]) -> list[Document]:
    by_id = {d.doc_id: d for d in documents}
    return [by_id[i] for i in sorted({doc_id for e in examples for doc_id in e.context_doc_ids})]


def embedding_texts(*, documents: Sequence[Document], examples: Sequence[Example], settings: RankingSettings
                    ) -> list[str]:
    """Every text the dense strategies will embed for one user (to encode many users in one batched call)."""
    if not DENSE_STRATEGIES & set(settings.strategies):
        return []
    groups = _embedding_groups(candidates=_candidates(documents, examples), examples=examples,
                               strategies=set(settings.strategies))
    return [text for _, texts in groups.values() for text in texts]


class PrefetchedEncoder:
    """Encodes many users' texts in one call (`prefetch`), then serves each user's call from memory.

    Per-user calls are small and of varying sizes; batching them together keeps the device busy and the
    number of compiled shapes small. Texts not prefetched are encoded on demand.
    """

    def __init__(self, encoder: TextEncoder):
        self.encoder = encoder
        self._vectors: dict[str, np.ndarray] = {}

    def prefetch(self, texts: Sequence[str]) -> None:
        self._vectors.clear()
        distinct = list(dict.fromkeys(texts))
        if distinct:
            self._vectors = dict(zip(distinct, np.asarray(self.encoder.encode(distinct), dtype=np.float32)))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        unknown = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if unknown:
            self._vectors.update(zip(unknown, np.asarray(self.encoder.encode(unknown), dtype=np.float32)))
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)


def _embedding_tables(*, encoder: TextEncoder, candidates: Sequence[Document], examples: Sequence[Example],
                      strategies: set[str]) -> dict[str, EmbeddingTable]:
    """One encoder call for the user: queries, and the candidate documents and/or their snippets."""
    groups = _embedding_groups(candidates=candidates, examples=examples, strategies=strategies)
    texts = [text for _, group_texts in groups.values() for text in group_texts]
    vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
    if vectors.shape[0] != len(texts):
        raise ValueError(f"the encoder returned {vectors.shape[0]} vectors for {len(texts)} texts")
    tables, start = {}, 0
    for name, (ids, group_texts) in groups.items():
        tables[name] = EmbeddingTable(ids=ids, vectors=vectors[start:start + len(ids)])
        start += len(ids)
    return tables


def user_strategies(*, documents: Sequence[Document], examples: Sequence[Example], settings: RankingSettings,
                    encoder: TextEncoder | None, statistics: CollectionStatistics | None
                    ) -> dict[str, RankingStrategy]:
    """The strategies of `settings`, with the user's resources (BM25 analysis, embeddings) built once."""
    names = set(settings.strategies)
    resources: dict[str, dict[str, Any]] = {name: {} for name in settings.strategies}
    if "RankDocBM25" in names:
        if settings.bm25_statistics == "index" and statistics is None:
            raise ValueError("bm25_statistics='index' needs the collection statistics of the whole prepared dataset")
        scorer = Bm25Scorer(index_statistics=statistics, statistics=settings.bm25_statistics)
        resources["RankDocBM25"]["source"] = InProcessBm25(scorer=scorer)
    if names & DENSE_STRATEGIES:
        if encoder is None:
            raise ValueError(f"strategies {sorted(names & DENSE_STRATEGIES)} need a dense encoder")
        tables = _embedding_tables(encoder=encoder, candidates=_candidates(documents, examples), examples=examples,
                                   strategies=names)
        if "RankDocDense" in names:
            resources["RankDocDense"].update(document_vectors=tables["document"], query_vectors=tables["query"])
        if names & SNIPPET_STRATEGIES:
            scorer = SnippetScorer(snippet_vectors=tables["snippet"], query_vectors=tables["query"])
            for name in names & SNIPPET_STRATEGIES:
                resources[name]["scorer"] = scorer
    return {name: make_strategy(name, **resources[name]) for name in settings.strategies}


def rank_user_contexts(*, documents: Sequence[Document], examples: Sequence[Example], settings: RankingSettings,
                       encoder: TextEncoder | None = None, statistics: CollectionStatistics | None = None
                       ) -> list[dict[str, Any]]:
    """One ranked-context record (formats.md) per example of one user, in the examples' order.

    `documents` are all of the user's documents; each example's candidates are its `context_doc_ids`.
    """
    by_id = {d.doc_id: d for d in documents}
    for example in examples:
        missing = [doc_id for doc_id in example.context_doc_ids if doc_id not in by_id]
        if missing:
            raise ValueError(f"example {example.example_id}: past documents {missing[:3]} are not among "
                             f"the {len(by_id)} documents of user {example.user_id!r}")
    strategies = user_strategies(documents=documents, examples=examples, settings=settings, encoder=encoder,
                                 statistics=statistics)
    records = []
    for example in examples:
        query = RankingQuery(query_id=example.example_id, user_id=example.user_id, timestamp=example.timestamp,
                             text=example.immediate_context)
        candidates = [by_id[doc_id] for doc_id in example.context_doc_ids]
        contexts = {}
        for name, strategy in strategies.items():
            ranking = rank_example(strategy=strategy, query=query, candidates=candidates,
                                   max_chars=settings.max_chars, separator=settings.separator)
            contexts[name] = {"entry_ids": list(ranking.entry_ids), "scores": list(ranking.scores),
                              "text": ranking.context,
                              "entry_chars": entry_lengths(texts=ranking.texts, context=ranking.context,
                                                           separator=settings.separator)}
        records.append({
            "example_id": example.example_id, "user_id": example.user_id, "doc_id": example.doc_id,
            "split": example.split, "title": example.title, "immediate_context": example.immediate_context,
            "target": example.target, "contexts": contexts,
        })
    return records


@dataclasses.dataclass(frozen=True)
class UserRanker:
    """`rank_user_contexts` with its settings and loaded resources bound, what each worker holds."""

    settings: RankingSettings
    encoder: TextEncoder | None = None
    statistics: CollectionStatistics | None = None

    def __call__(self, *, documents: Sequence[Document], examples: Sequence[Example]) -> list[dict[str, Any]]:
        return rank_user_contexts(documents=documents, examples=examples, settings=self.settings,
                                  encoder=self.encoder, statistics=self.statistics)


def load_text_encoder(*, encoder: str, path: str | None = None, cache_dir: str | None = None,
                      batch_size: int = 64) -> TextEncoder:
    """The dense encoder of the ranking stage: 'minilm' (packaged all-MiniLM-L6-v2 unless `path`) or 'gtr' (`path`
    to a local sentence-transformers GTR folder); with `cache_dir`, through the on-disk embedding cache."""
    # Imported here so that runs without a dense strategy never load JAX or model code.
    from personalize.retrieval.dense.cache import CachedEncoder
    from personalize.retrieval.dense.encode import DenseEncoder

    if encoder == "minilm":
        from personalize.retrieval.dense.minilm import load_minilm

        model = load_minilm(path=path)
    elif encoder == "gtr":
        if not path:
            raise ValueError("encoder 'gtr' needs encoder_path: a local sentence-transformers gtr-t5-* folder")
        from personalize.retrieval.dense.gtr import load_gtr

        model = load_gtr(path=path)
    else:
        raise ValueError(f"unknown encoder {encoder!r}; known: 'minilm', 'gtr'")
    dense = DenseEncoder(model=model, batch_size=batch_size)
    return CachedEncoder(encoder=dense, cache_dir=cache_dir) if cache_dir else dense
