"""SynCtx weak labels: matching by identity, synonyms and word vectors, with hand-worked expected keywords."""

import numpy as np
import pytest

from personalize.synthesis.idf import DocumentFrequencies
from personalize.synthesis.synonyms import DEFAULT_WORDNET_DIR, SynonymTable, WordNetSynonyms, has_wordnet
from personalize.synthesis.weak_labels import WordMatcher, synthesis_weak_label
from personalize.synthesis.word_vectors import MINILM_MAX_DISTANCE, WordVectors

RANKED = "The automobile was parked near the river bank. Automobile insurance costs."
TARGET = "My car broke down by the river; the car needs repair and costs money."
# idf = ln(100 / df): automobile 3.00, river 2.30, bank 2.30, insurance 1.61, costs 1.20 (< 1.5), near 0.69
FREQUENCIES = DocumentFrequencies(num_documents=100, document_frequency={
    "automobile": 5, "river": 10, "bank": 10, "insurance": 20, "costs": 30, "near": 50, "parked": 10})
SYNONYMS = SynonymTable.from_groups([["car", "automobile", "auto"]])
# bank-money 0.5 (< 1.0: a match), insurance-repair 1.5 (no match); the rest far apart.
VECTORS = WordVectors(words=("bank", "money", "insurance", "repair", "river", "parked", "broke"),
                      matrix=np.array([[0, 0], [0.5, 0], [10, 10], [10, 11.5], [20, 0], [30, 0], [40, 0]],
                                      dtype=np.float32))


def test_weak_label_hand_worked():
    matcher = WordMatcher(synonyms=SYNONYMS, vectors=VECTORS, max_distance=1.0)
    # automobile ~ car (2 occurrences in d_t) -> 2; river -> 1; bank ~ money -> 1; costs matches but IDF 1.20.
    # Ties on count and IDF (bank, river: 2.30) go by the word.
    assert synthesis_weak_label(ranked_text=RANKED, target=TARGET, frequencies=FREQUENCIES, matcher=matcher) == [
        "automobile", "bank", "river"]
    assert synthesis_weak_label(ranked_text=RANKED, target=TARGET, frequencies=FREQUENCIES, matcher=matcher,
                                max_keywords=1) == ["automobile"]
    assert synthesis_weak_label(ranked_text=RANKED, target=TARGET, frequencies=FREQUENCIES, matcher=matcher,
                                min_idf=1.0) == ["automobile", "bank", "river", "costs"]
    # log10(100 / df): automobile 1.30 (< 1.5), so with base 10 the same floor leaves nothing to select.
    assert synthesis_weak_label(ranked_text=RANKED, target=TARGET, frequencies=FREQUENCIES, matcher=matcher,
                                idf_base="10") == []
    assert synthesis_weak_label(ranked_text=RANKED, target=TARGET, frequencies=FREQUENCIES, matcher=matcher,
                                idf_base="10", min_idf=1.0) == ["automobile", "bank", "river"]


def test_each_matching_source_alone():
    def label(matcher):
        return synthesis_weak_label(ranked_text=RANKED, target=TARGET, frequencies=FREQUENCIES, matcher=matcher)

    assert label(WordMatcher()) == ["river"]
    assert label(WordMatcher(synonyms=SYNONYMS)) == ["automobile", "river"]
    assert label(WordMatcher(vectors=VECTORS, max_distance=1.0)) == ["bank", "river"]
    assert label(WordMatcher(vectors=VECTORS, max_distance=2.0)) == ["bank", "river", "insurance"]


def test_one_directional_synonym_source_matches_both_ways():
    class OneWay:
        def synonyms(self, word):
            return frozenset({"automobile"}) if word == "car" else frozenset()

    matches = WordMatcher(synonyms=OneWay()).matches(candidates=["automobile", "bank"], targets=["car", "money"])
    assert matches == {"automobile": {"car"}}


def test_stopwords_never_selected():
    matcher = WordMatcher()
    assert synthesis_weak_label(ranked_text="the and of river", target="The river and the sea",
                                frequencies=FREQUENCIES, matcher=matcher) == ["river"]


@pytest.mark.skipif(not has_wordnet(DEFAULT_WORDNET_DIR),
                    reason=f"WordNet database absent from {DEFAULT_WORDNET_DIR} (bash run.sh brings Debian's "
                           "wordnet-base where it can; or set PERSONALIZE_WORDNET_DIR)")
def test_real_wordnet_synonyms(tmp_path):
    wordnet = WordNetSynonyms(directory=DEFAULT_WORDNET_DIR, work_dir=str(tmp_path))
    assert {"automobile", "auto", "machine", "motorcar"} <= wordnet.synonyms("car")
    assert "happy" in wordnet.synonyms("glad")
    assert "car" in wordnet.synonyms("cars")  # inflections find their lemma's synsets
    assert wordnet.synonyms("qzxv") == frozenset()
    matches = WordMatcher(synonyms=wordnet).matches(candidates=["automobile", "river"], targets=["car", "money"])
    assert matches == {"automobile": {"car"}}


def test_missing_wordnet_directory_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a WordNet 3.0 database"):
        WordNetSynonyms(directory=str(tmp_path))


def test_real_minilm_word_vectors():
    from personalize.synthesis.word_vectors import load_minilm_word_vectors

    vectors = load_minilm_word_vectors()
    assert vectors.matrix.shape == (21722, 384)
    assert "running" in vectors.index and "##ing" not in vectors.index and "[CLS]" not in vectors.index
    close = vectors.close_pairs(left=["run", "buy", "happy", "car"], right=["running", "purchase", "table", "banana"],
                                max_distance=MINILM_MAX_DISTANCE)
    assert close == {("run", "running"), ("buy", "purchase")}
