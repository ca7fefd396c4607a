import math

import numpy as np
import pytest

from personalize.corpus.document import Document
from personalize.ranking import RankingQuery
from personalize.ranking.rank_doc_bm25 import InProcessBm25
from personalize.retrieval.analysis import analyze, standard_tokens
from personalize.retrieval.bm25 import (AnalyzedDocument, Bm25Scorer, CollectionStatistics, DocumentTable, decode_length,
                                        encode_length, query_terms)
from personalize.retrieval.document_text import document_text
from personalize.retrieval.porter import porter_stem


def test_analyzer_matches_lucene_token_streams():
    # Expected outputs were produced by pyserini.analysis.Analyzer(get_lucene_analyzer()) (Lucene, Anserini 1.7.1).
    assert analyze("The quick brown foxes jumped over the lazy dog's back.") == ["quick", "brown", "fox", "jump", "over", "lazi", "dog", "back"]
    assert analyze("U.S.A. 3.14 1,000 a:b foo_bar e-mail John's JOHN’S can't R2D2 ___ café naïve") == [
        "u.s.a", "3.14", "1,000", "a:b", "foo_bar", "e", "mail", "john", "john", "can't", "r2d2", "café", "naïv"
    ]
    assert analyze("東京タワー ひら ไทยภาษา 👍🏽 🇺🇸 ☼i abc;def 1;2 rock'n'roll ΣΟΦΙΑΣ") == [
        "東", "京", "タワー", "ひ", "ら", "ไทยภาษา", "👍🏽", "🇺🇸", "☼", "i", "abc", "def", "1;2", "rock'n'rol", "σοφιασ"
    ]


def test_tokens_longer_than_255_are_cut():
    assert [len(t) for t in standard_tokens("x" * 300)] == [255, 45]


def test_porter_stemmer_known_outputs():
    words = "caresses ponies ties sky happy relational conditional hopeful goodness generalizations oscillators ion yyyy".split()
    assert [porter_stem(w) for w in words] == [
        "caress", "poni", "ti", "sky", "happi", "relat", "condit", "hope", "good", "gener", "oscil", "ion", "yyyi"
    ]


def test_lucene_length_norm_is_lossy_above_23():
    assert [decode_length(encode_length(n)) for n in (0, 1, 23, 24, 25, 100, 1000)] == [0, 1, 23, 24, 25, 96, 984]
    assert encode_length(100) == 57


def _docs():
    texts = {"d1": "cats chase mice", "d2": "cats sleep", "d3": "dogs chase cats cats"}
    return [AnalyzedDocument.from_text(doc_id=k, text=v) for k, v in texts.items()]


def test_bm25_hand_worked_example():
    docs = _docs()
    assert [d.length for d in docs] == [3, 2, 4]
    stats = CollectionStatistics.from_documents(docs)
    assert (stats.doc_count, stats.total_terms, stats.doc_freq["cat"], stats.doc_freq["chase"]) == (3, 9, 3, 2)
    scores = Bm25Scorer(index_statistics=stats).score(query="cat chase", candidates=docs)
    idf_cat, idf_chase = math.log(1 + 0.5 / 3.5), math.log(1 + 1.5 / 2.5)
    norm = lambda dl: 0.9 * (0.6 + 0.4 * dl / 3.0)  # noqa: E731
    expected = [
        idf_cat / (1 + norm(3)) + idf_chase / (1 + norm(3)),
        idf_cat / (1 + norm(2)),
        idf_cat * 2 / (2 + norm(4)) + idf_chase / (1 + norm(4)),
    ]
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    assert [round(float(s), 6) for s in scores] == [0.31765, 0.075018, 0.321106]


def test_repeated_query_terms_weigh_more_and_unknown_terms_score_zero():
    docs = _docs()
    scorer = Bm25Scorer(index_statistics=CollectionStatistics.from_documents(docs))
    assert query_terms("chase chase the cats") == {"chase": 2, "cat": 1}
    once = scorer.score(query="chase", candidates=docs)
    twice = scorer.score(query="chase chase", candidates=docs)
    np.testing.assert_allclose(twice, 2 * once, rtol=1e-6)
    assert scorer.score(query="zebra the", candidates=docs).tolist() == [0.0, 0.0, 0.0]
    assert scorer.score(query="cat", candidates=[]).shape == (0,)


def test_candidate_statistics_use_only_the_candidates():
    docs = _docs()
    scorer = Bm25Scorer(statistics="candidates")
    scores = scorer.score(query="chase", candidates=docs[:2])
    # N = 2, df(chase) = 1, avgdl = 2.5
    expected = math.log(1 + 1.5 / 1.5) / (1 + 0.9 * (0.6 + 0.4 * 3 / 2.5))
    np.testing.assert_allclose(scores, [expected, 0.0], rtol=1e-6)


def test_index_statistics_are_required_by_default():
    with pytest.raises(ValueError, match="index_statistics"):
        Bm25Scorer()
    with pytest.raises(ValueError, match="statistics must be"):
        Bm25Scorer(statistics="user")


def _reference_scores(*, query, candidates, stats):
    """The per-candidate loop the vectorised scorer replaces, written out plainly in Lucene's float32 steps."""
    one, k1, b = np.float32(1.0), np.float32(0.9), np.float32(0.4)
    average_length = stats.average_length()
    scores = []
    for document in candidates:
        inverse_norm = one / (k1 * ((one - b) + b * np.float32(decode_length(document.norm)) / average_length))
        total = 0.0
        for term, count in query_terms(query).items():
            freq = document.term_freqs.get(term, 0)
            if freq:
                weight = np.float32(count) * np.float32(stats.idf(term))
                total += float(weight - weight / (one + np.float32(freq) * inverse_norm))
        scores.append(np.float32(total))
    return np.array(scores, dtype=np.float32)


def _random_texts(count, seed):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)] + ["cats", "chase", "the", "dog's"]
    return [" ".join(rng.choice(words, size=int(rng.integers(0, 90)))) for _ in range(count)]


def test_vectorised_scores_equal_the_plain_loop_bit_for_bit():
    docs = [AnalyzedDocument.from_text(doc_id=f"d{i}", text=t) for i, t in enumerate(_random_texts(40, seed=1))]
    stats = CollectionStatistics.from_documents(docs)
    scorer = Bm25Scorer(index_statistics=stats)
    for query in _random_texts(20, seed=2) + ["w1 w1 w1 cats zebra"]:
        expected = _reference_scores(query=query, candidates=docs[5:33], stats=stats)
        assert scorer.score(query=query, candidates=docs[5:33]).tobytes() == expected.tobytes()
        candidate_stats = CollectionStatistics.from_documents(docs[:7])
        expected = _reference_scores(query=query, candidates=docs[:7], stats=candidate_stats)
        assert Bm25Scorer(statistics="candidates").score(query=query, candidates=docs[:7]).tobytes() == expected.tobytes()


def test_document_table_grows_and_gathers_any_rows():
    table = DocumentTable()
    docs = [AnalyzedDocument.from_text(doc_id=f"d{i}", text=t) for i, t in enumerate(_random_texts(70, seed=3))]
    rows = np.concatenate([table.add(docs[:1]), table.add(docs[1:50]), table.add(docs[50:])])
    assert rows.tolist() == list(range(70)) and len(table) == 70
    terms = ["w3", "cat", "zebra", "w59"]
    picked = np.array([69, 0, 33, 33, 12], dtype=np.int64)
    expected = [[docs[r].term_freqs.get(term, 0) for r in picked.tolist()] for term in terms]
    freqs = table.term_freqs(terms=terms, rows=picked)
    assert freqs.dtype == np.float32 and freqs.tolist() == expected
    assert table.norms(picked).tolist() == [docs[r].norm for r in picked.tolist()]
    assert table.lengths(picked).tolist() == [docs[r].length for r in picked.tolist()]


def test_document_table_keeps_frequencies_above_uint16():
    table = DocumentTable()
    table.add([AnalyzedDocument(doc_id="small", term_freqs={"a": 3}, length=3, norm=3)])
    table.add([AnalyzedDocument(doc_id="big", term_freqs={"a": 70000, "b": 1}, length=70001, norm=encode_length(70001))])
    assert table.term_freqs(terms=["a", "b"], rows=np.array([1, 0])).tolist() == [[70000.0, 3.0], [1.0, 0.0]]


def test_score_rows_in_any_order_equals_scoring_the_candidates():
    docs = [AnalyzedDocument.from_text(doc_id=f"d{i}", text=t) for i, t in enumerate(_random_texts(30, seed=4))]
    table = DocumentTable()
    rows = table.add(docs)
    for statistics in ("index", "candidates"):
        scorer = Bm25Scorer(index_statistics=CollectionStatistics.from_documents(docs), statistics=statistics)
        picked = np.array([29, 3, 17, 3, 8], dtype=np.int64)
        for query in _random_texts(10, seed=5):
            direct = scorer.score(query=query, candidates=[docs[r] for r in picked.tolist()])
            assert scorer.score_rows(query=query, table=table, rows=rows[picked]).tobytes() == direct.tobytes()
        assert scorer.score_rows(query="w1", table=table, rows=np.zeros(0, dtype=np.int64)).shape == (0,)


def test_in_process_source_analyzes_new_candidates_once_per_user():
    texts = _random_texts(12, seed=6)
    documents = [Document(user_id="u1" if i < 8 else "u2", doc_id=f"d{i}", timestamp=float(i), body=t) for i, t in enumerate(texts)]
    analyzed = {d.doc_id: AnalyzedDocument.from_text(doc_id=d.doc_id, text=document_text(d)) for d in documents}
    scorer = Bm25Scorer(index_statistics=CollectionStatistics.from_documents(analyzed.values()))
    precomputed = InProcessBm25(scorer=scorer, analyzed=analyzed)
    lazy = InProcessBm25(scorer=scorer)
    for current in documents:
        query = RankingQuery(query_id=current.doc_id, user_id=current.user_id, timestamp=current.timestamp, text=current.body[:40])
        candidates = [d for d in documents if d.user_id == current.user_id and d.timestamp < current.timestamp][::-1]
        expected = scorer.score(query=query.text, candidates=[analyzed[d.doc_id] for d in candidates])
        assert precomputed.scores(query=query, candidates=candidates).tobytes() == expected.tobytes()
        assert lazy.scores(query=query, candidates=candidates).tobytes() == expected.tobytes()
