import math

import numpy as np
import pytest

from personalize.retrieval.analysis import analyze, standard_tokens
from personalize.retrieval.bm25 import AnalyzedDocument, Bm25Scorer, CollectionStatistics, decode_length, encode_length, query_terms
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
