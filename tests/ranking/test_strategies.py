import re
import zlib

import numpy as np
import pytest

from personalize.corpus.document import Document
from personalize.ranking import STRATEGIES, RankingQuery, make_strategy, rank_example
from personalize.ranking.rank_doc_bm25 import InProcessBm25
from personalize.ranking.scoring import EmbeddingTable, embed_texts
from personalize.ranking.snippet_scores import SnippetScorer
from personalize.retrieval.bm25 import AnalyzedDocument, Bm25Scorer, CollectionStatistics
from personalize.retrieval.document_text import document_text
from personalize.retrieval.snippets import document_snippets


class HashedBagOfWords:
    """A tiny deterministic TextEncoder: hashed bag of lowercase words, L2-normalised."""

    def encode(self, texts):
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, zlib.crc32(word.encode()) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def doc(doc_id, timestamp, body, title=None, user="u"):
    return Document(user_id=user, doc_id=doc_id, timestamp=float(timestamp), body=body, title=title)


QUERY = RankingQuery(query_id="q1", user_id="u", timestamp=100.0, text="garden flowers in spring")
CANDIDATES = [
    doc("d1", 10, "I bought a new laptop today. It is fast."),
    doc("d2", 20, "The garden is full of flowers in spring. Tulips everywhere."),
    doc("d3", 30, "Cooking pasta tonight. Nothing about plants."),
    doc("d4", 30, "Spring is here and the garden needs work."),
]


def _tables(encoder, documents, query, snippet_chars=250):
    snippets = [s for d in documents for s in document_snippets(document=d, min_chars=snippet_chars)]
    return (
        embed_texts(encoder=encoder, ids=[d.doc_id for d in documents], texts=[document_text(d) for d in documents]),
        embed_texts(encoder=encoder, ids=[s.snippet_id for s in snippets], texts=[s.text for s in snippets]),
        embed_texts(encoder=encoder, ids=[query.query_id], texts=[query.text]),
    )


def test_registry_names_match_the_paper():
    assert sorted(STRATEGIES) == ["RankDocBM25", "RankDocBySnpt", "RankDocDense", "RankSnippet", "RecentDoc"]
    assert make_strategy("RecentDoc").name == "RecentDoc"
    with pytest.raises(ValueError, match="unknown ranking strategy 'Random'"):
        make_strategy("Random")


def test_recent_doc_orders_by_time_then_doc_id():
    ranking = rank_example(strategy=make_strategy("RecentDoc"), query=QUERY, candidates=CANDIDATES)
    assert ranking.entry_ids == ("d3", "d4", "d2", "d1")  # d3 and d4 tie at t=30: smaller doc id first
    assert ranking.scores == (30.0, 30.0, 20.0, 10.0)
    assert ranking.strategy == "RecentDoc" and ranking.num_candidates == 4
    assert ranking.context == "\n".join(document_text(d) for d in (CANDIDATES[2], CANDIDATES[3], CANDIDATES[1], CANDIDATES[0]))


def test_rank_doc_bm25_scores_and_zero_score_documents_last_most_recent_first():
    analyzed = [AnalyzedDocument.from_text(doc_id=d.doc_id, text=document_text(d)) for d in CANDIDATES]
    source = InProcessBm25(scorer=Bm25Scorer(index_statistics=CollectionStatistics.from_documents(analyzed)))
    ranking = rank_example(strategy=make_strategy("RankDocBM25", source=source), query=QUERY, candidates=CANDIDATES)
    assert ranking.entry_ids == ("d2", "d4", "d3", "d1")
    assert ranking.scores[0] > ranking.scores[1] > 0.0 and ranking.scores[2:] == (0.0, 0.0)


def test_single_eligible_document_and_no_candidates():
    one = [doc("d9", 5, "Only one past post about gardens.")]
    for name in ("RecentDoc",):
        ranking = rank_example(strategy=make_strategy(name), query=QUERY, candidates=one)
        assert ranking.entry_ids == ("d9",) and ranking.context == "Only one past post about gardens."
    documents, snippets, queries = _tables(HashedBagOfWords(), one, QUERY)
    scorer = SnippetScorer(snippet_vectors=snippets, query_vectors=queries)
    for strategy in (
        make_strategy("RankDocDense", document_vectors=documents, query_vectors=queries),
        make_strategy("RankSnippet", scorer=scorer),
        make_strategy("RankDocBySnpt", scorer=scorer),
    ):
        assert rank_example(strategy=strategy, query=QUERY, candidates=one).entry_ids[0].startswith("d9")
        empty = rank_example(strategy=strategy, query=QUERY, candidates=[])
        assert empty.entry_ids == () and empty.context == ""


def test_dense_strategies_with_exact_vectors_and_ties():
    # Hand-made 2-d vectors: exact dot products, and d3/d4 tie.
    query_vectors = EmbeddingTable(ids=["q1"], vectors=[[1.0, 0.0]])
    document_vectors = EmbeddingTable(ids=["d1", "d2", "d3", "d4"], vectors=[[0.0, 1.0], [0.8, 0.6], [0.6, 0.8], [0.6, 0.8]])
    ranking = rank_example(
        strategy=make_strategy("RankDocDense", document_vectors=document_vectors, query_vectors=query_vectors),
        query=QUERY,
        candidates=CANDIDATES,
    )
    assert ranking.entry_ids == ("d2", "d3", "d4", "d1")
    np.testing.assert_allclose(ranking.scores, [0.8, 0.6, 0.6, 0.0], rtol=1e-6)


def test_rank_doc_by_snippet_uses_the_max_over_snippets():
    long_doc = doc("long", 10, "Unrelated words here. Unrelated words here. Unrelated words again. More unrelated text. Exact match sentence.")
    other = doc("other", 20, "Medium match sentence.")
    snippets = {s.snippet_id: s for d in (long_doc, other) for s in document_snippets(document=d, min_chars=30)}
    assert sorted(snippets) == ["long#0", "long#1", "long#2", "other#0"]
    vectors = {"long#0": [0.0, 1.0], "long#1": [0.0, 1.0], "long#2": [1.0, 0.0], "other#0": [0.7, 0.7]}
    snippet_vectors = EmbeddingTable(ids=list(vectors), vectors=list(vectors.values()))
    query_vectors = EmbeddingTable(ids=["q1"], vectors=[[1.0, 0.0]])
    scorer = SnippetScorer(snippet_vectors=snippet_vectors, query_vectors=query_vectors, snippet_min_chars=30)
    candidates = [long_doc, other]
    by_doc = rank_example(strategy=make_strategy("RankDocBySnpt", scorer=scorer), query=QUERY, candidates=candidates)
    assert by_doc.entry_ids == ("long", "other")
    np.testing.assert_allclose(by_doc.scores, [1.0, 0.7], rtol=1e-6)
    assert by_doc.texts[0] == long_doc.body
    by_snippet = rank_example(strategy=make_strategy("RankSnippet", scorer=scorer), query=QUERY, candidates=candidates)
    # The two zero-score snippets of "long" tie: earlier snippet first.
    assert by_snippet.entry_ids == ("long#2", "other#0", "long#0", "long#1")
    assert by_snippet.texts[0] == snippets["long#2"].text


def test_dense_rankings_with_a_fake_encoder_prefer_the_matching_documents():
    documents, snippets, queries = _tables(HashedBagOfWords(), CANDIDATES, QUERY, snippet_chars=30)
    scorer = SnippetScorer(snippet_vectors=snippets, query_vectors=queries, snippet_min_chars=30)
    for strategy in (
        make_strategy("RankDocDense", document_vectors=documents, query_vectors=queries),
        make_strategy("RankDocBySnpt", scorer=scorer),
    ):
        assert rank_example(strategy=strategy, query=QUERY, candidates=CANDIDATES).entry_ids[0] == "d2"
    assert rank_example(strategy=make_strategy("RankSnippet", scorer=scorer), query=QUERY, candidates=CANDIDATES).entry_ids[0] == "d2#0"


def test_missing_embedding_is_a_clear_error():
    strategy = make_strategy(
        "RankDocDense",
        document_vectors=EmbeddingTable(ids=["d1"], vectors=[[1.0]]),
        query_vectors=EmbeddingTable(ids=["q1"], vectors=[[1.0]]),
    )
    with pytest.raises(KeyError, match="no embedding for 'd2'"):
        rank_example(strategy=strategy, query=QUERY, candidates=CANDIDATES[:2])


def test_candidates_must_be_the_authors_past_documents():
    with pytest.raises(ValueError, match="not a past document"):
        rank_example(strategy=make_strategy("RecentDoc"), query=QUERY, candidates=[doc("late", 100, "same time")])
    with pytest.raises(ValueError, match="not a past document"):
        rank_example(strategy=make_strategy("RecentDoc"), query=QUERY, candidates=[doc("x", 1, "other user", user="v")])


def test_embedding_table_round_trips_through_npz(tmp_path):
    table = EmbeddingTable(ids=["a", "b#0"], vectors=[[0.6, 0.8], [1.0, 0.0]])
    table.save(tmp_path / "t.npz")
    loaded = EmbeddingTable.load(tmp_path / "t.npz")
    assert loaded.ids == ["a", "b#0"]
    np.testing.assert_array_equal(loaded.lookup(["b#0", "a"]), np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32))
