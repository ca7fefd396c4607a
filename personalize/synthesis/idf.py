"""Inverse document frequencies over a stated collection: every document of the corpus's training users.

idf(w) = log_b(N / df(w)), N the number of documents, df(w) the number containing w (title and body). Only training
users count, so nothing about validation or test users leaks into the keywords. A word no training document
contains is counted as if one did (idf = log_b N): unseen words are rare words.

The paper filters words with IDF < 1.5 without naming the base b, and the base decides what the floor means: a
word is dropped when it is in more than b**-1.5 of the documents, about 22% with b = e, about 3% with b = 10. The
base is a setting (`idf_base`, 'e' by default: the natural log of Lucene's and scikit-learn's IDF); its effect on
a real corpus is measured in docs/synthesis_idf_base.md.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections import Counter
from typing import Iterable, Mapping

from personalize.preparation.dataset import PreparedDataset, write_json_atomically
from personalize.retrieval.document_text import document_text
from personalize.synthesis.words import words

FORMAT = "personalize.idf/1"
IDF_BASES = {"e": math.e, "10": 10.0, "2": 2.0}


def check_idf_base(base: str) -> float:
    """The logarithm base named by a setting ('e', '10' or '2'); a clear error for any other name."""
    if base not in IDF_BASES:
        raise ValueError(f"idf_base must be one of {sorted(IDF_BASES)}, got {base!r}")
    return IDF_BASES[base]


@dataclasses.dataclass(frozen=True)
class DocumentFrequencies:
    """How many documents of the collection contain each word."""

    num_documents: int
    document_frequency: Mapping[str, int]

    def idf(self, word: str, *, base: str) -> float:
        """log_base(N / df(word)); `base` names the logarithm ('e', '10' or '2', see the module docstring)."""
        if self.num_documents < 1:
            raise ValueError("document frequencies over an empty collection give no IDF")
        return math.log(self.num_documents / max(self.document_frequency.get(word, 0), 1), check_idf_base(base))


def count_document_frequencies(*, texts: Iterable[str]) -> DocumentFrequencies:
    """Document frequencies of the words (stopwords included) of `texts`, one text per document."""
    frequency: Counter[str] = Counter()
    num_documents = 0
    for text in texts:
        frequency.update(set(words(text)))
        num_documents += 1
    return DocumentFrequencies(num_documents=num_documents, document_frequency=dict(frequency))


def training_user_frequencies(*, dataset: PreparedDataset) -> DocumentFrequencies:
    """Document frequencies over all documents of the users with training examples."""
    training_users = {example.user_id for example in dataset.examples("train")}
    if not training_users:
        raise ValueError(f"{dataset.path}: no training examples, so no collection to count IDF over")
    return count_document_frequencies(
        texts=(document_text(d) for d in dataset.documents() if d.user_id in training_users)
    )


def write_frequencies(*, path: str, frequencies: DocumentFrequencies) -> None:
    write_json_atomically(path, {"format": FORMAT, "num_documents": frequencies.num_documents,
                                 "document_frequency": dict(frequencies.document_frequency)})


def read_frequencies(*, path: str) -> DocumentFrequencies:
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no document frequencies (write them with write_frequencies)")
    with open(path, encoding="utf-8") as handle:
        record = json.load(handle)
    if record.get("format") != FORMAT:
        raise ValueError(f"{path}: format {record.get('format')!r}, expected {FORMAT!r}")
    return DocumentFrequencies(num_documents=int(record["num_documents"]),
                               document_frequency={w: int(n) for w, n in record["document_frequency"].items()})
