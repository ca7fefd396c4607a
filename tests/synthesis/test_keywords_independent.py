"""SynCtxInd, words and IDF: hand-worked expected values."""

import math

import pytest

from personalize.corpus.document import Document
from personalize.pipeline.additions import Addition
from personalize.preparation.dataset import PreparedDataset, write_prepared_dataset
from personalize.preparation.example import Example
from personalize.synthesis.idf import (DocumentFrequencies, count_document_frequencies, read_frequencies,
                                       training_user_frequencies, write_frequencies)
from personalize.synthesis.keywords_independent import independent_keywords, write_independent_keywords_addition
from personalize.synthesis.words import ENGLISH_STOPWORDS, content_words, words


def test_words_lowercase_letters_possessive_and_stopwords():
    text = "John's car-parts don\u2019t cost 42 euros in \u00dcberlingen."
    assert list(words(text)) == ["john", "car", "parts", "don't", "cost", "euros", "in", "\u00fcberlingen"]
    assert list(content_words(text)) == ["john", "car", "parts", "cost", "euros", "\u00fcberlingen"]
    assert len(ENGLISH_STOPWORDS) == 179


def test_document_frequencies_and_idf(tmp_path):
    frequencies = count_document_frequencies(texts=["apple banana", "Apple cherry", "banana apple apple"])
    assert frequencies.num_documents == 3
    assert dict(frequencies.document_frequency) == {"apple": 3, "banana": 2, "cherry": 1}
    assert frequencies.idf("apple", base="e") == 0.0
    assert math.isclose(frequencies.idf("banana", base="e"), math.log(1.5))
    assert math.isclose(frequencies.idf("cherry", base="e"), math.log(3))
    assert math.isclose(frequencies.idf("unseen", base="e"), math.log(3))  # unseen counts as df 1
    assert math.isclose(frequencies.idf("cherry", base="10"), math.log10(3))
    assert math.isclose(frequencies.idf("cherry", base="2"), math.log2(3))
    with pytest.raises(ValueError, match="idf_base must be one of"):
        frequencies.idf("cherry", base="ln")
    path = str(tmp_path / "idf.json")
    write_frequencies(path=path, frequencies=frequencies)
    assert read_frequencies(path=path) == frequencies


PAST = ["Garden roses, garden tulips and the garden.", "Roses need water. Tulips need sun!",
        "Water the roses; common word common."]
# idf = ln(100 / df): roses 4.61, garden 2.30, common 2.30, tulips 1.61, water 1.61, word 3.00, need 1.20 (< 1.5)
FREQUENCIES = DocumentFrequencies(num_documents=100, document_frequency={
    "garden": 10, "roses": 1, "tulips": 20, "water": 20, "need": 30, "common": 10, "word": 5})


def test_independent_keywords_hand_worked():
    # counts: garden 3, roses 3, tulips 2, water 2, need 2, common 2, sun 1, word 1.
    # need: IDF 1.20 < 1.5; sun, word: frequency 1. Order: count, then IDF, then the word.
    assert independent_keywords(past_texts=PAST, frequencies=FREQUENCIES) == [
        "roses", "garden", "common", "tulips", "water"]
    assert independent_keywords(past_texts=PAST, frequencies=FREQUENCIES, max_keywords=3) == [
        "roses", "garden", "common"]
    assert independent_keywords(past_texts=PAST, frequencies=FREQUENCIES, min_idf=2.0) == [
        "roses", "garden", "common"]
    assert independent_keywords(past_texts=[], frequencies=FREQUENCIES) == []


def test_idf_base_moves_the_floor():
    # log10(100 / df): roses 2.00, word 1.30, garden 1.00, common 1.00, tulips 0.70, water 0.70. With base 10 the
    # 1.5 floor keeps only words in at most 100 * 10**-1.5 = 3.2 of the 100 documents: roses (word has count 1).
    assert independent_keywords(past_texts=PAST, frequencies=FREQUENCIES, idf_base="10") == ["roses"]
    assert independent_keywords(past_texts=PAST, frequencies=FREQUENCIES, idf_base="e") == independent_keywords(
        past_texts=PAST, frequencies=FREQUENCIES)


def _prepared(tmp_path):
    bodies = {"u1": PAST + ["Roses and tulips again, garden garden."], "u2": ["Gears and bikes.", "Bikes, gears.",
                                                                           "Bikes!"]}
    documents = {user: [Document(user_id=user, doc_id=f"{user}-{i}", timestamp=float(i), body=body)
                        for i, body in enumerate(texts)] for user, texts in bodies.items()}
    examples = [
        Example(example_id="u1-3", user_id="u1", doc_id="u1-3", timestamp=3.0, title=None, target=bodies["u1"][3],
                immediate_context="Roses", context_doc_ids=("u1-0", "u1-1", "u1-2"), split="train"),
        Example(example_id="u2-2", user_id="u2", doc_id="u2-2", timestamp=2.0, title=None, target="Bikes!",
                immediate_context="Bikes", context_doc_ids=("u2-0", "u2-1"), split="test"),
    ]
    path = str(tmp_path / "prepared")
    write_prepared_dataset(output_dir=path, documents_by_user=documents, examples=examples, num_shards=2, settings={})
    return path


def test_training_user_frequencies_count_only_training_users(tmp_path):
    frequencies = training_user_frequencies(dataset=PreparedDataset(_prepared(tmp_path)))
    assert frequencies.num_documents == 4  # u1's four documents; u2 has only a test example
    assert frequencies.document_frequency["roses"] == 4
    assert "bikes" not in frequencies.document_frequency


def test_write_independent_keywords_addition(tmp_path):
    output = str(tmp_path / "synctxind")
    manifest = write_independent_keywords_addition(prepared_dir=_prepared(tmp_path), output_dir=output,
                                                   frequencies=FREQUENCIES, num_shards=3)
    assert manifest["variant"] == "SynCtxInd" and len(manifest["shards"]["train"]) == 3
    addition = Addition(output)
    assert addition.values("train") == {"u1-3": ["roses", "garden", "common", "tulips", "water"]}
    # u2 (past: u2-0, u2-1): bikes 2, gears 2, both unseen in the frequencies (idf ln 100), then by the word.
    assert addition.values("test") == {"u2-2": ["bikes", "gears"]}
    assert addition.values("validation") == {}


def test_idf_base_comparison_counts_each_base(tmp_path):
    from personalize.synthesis.idf_base_comparison import compare_idf_bases

    # The IDF collection is u1's four documents; content words by df: roses 4, tulips 3, garden 2, water 2, and
    # need, sun, word, common 1 ("and", "the", "again" are stopwords).
    result = compare_idf_bases(prepared_dir=_prepared(tmp_path), bases=("e", "10"), min_idf=0.5)
    assert result["num_documents"] == 4 and result["content_words"] == 8 and result["examples"] == 2
    # Floor 0.5: ln drops df > 4 * e**-0.5 = 2.43 (roses, tulips); log10 drops df > 4 * 10**-0.5 = 1.26 (and garden,
    # water), most frequent first.
    assert result["bases"]["e"]["most_common_dropped"] == [("roses", 4), ("tulips", 3)]
    assert result["bases"]["10"]["most_common_dropped"] == [("roses", 4), ("tulips", 3), ("garden", 2), ("water", 2)]
    assert result["bases"]["10"]["dropped_words"] == 4
