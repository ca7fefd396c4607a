"""SynCtxInd: the context-independent keywords of a user, the frequent unigrams of their past documents.

The paper: drop stopwords, words of frequency 1 and words with IDF < 1.5; sort by frequency, then IDF; keep at
most 20. The IDF's logarithm base is `idf_base` (idf.py says why it matters). Frequency is the number of occurrences over all past documents (title and body); ties after IDF are
broken by the word itself so the list is deterministic.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from personalize.pipeline.additions import write_addition
from personalize.preparation.dataset import PreparedDataset, shard_of
from personalize.preparation.splits import SPLITS
from personalize.retrieval.document_text import document_text
from personalize.synthesis.idf import DocumentFrequencies
from personalize.synthesis.words import content_words


def independent_keywords(
    *,
    past_texts: Sequence[str],
    frequencies: DocumentFrequencies,
    max_keywords: int = 20,
    min_idf: float = 1.5,
    min_count: int = 2,
    idf_base: str = "e",
) -> list[str]:
    """The keywords of one user's past documents, most frequent first."""
    counts = Counter(word for text in past_texts for word in content_words(text))
    idf = {word: frequencies.idf(word, base=idf_base) for word in counts}
    kept = [word for word, count in counts.items() if count >= min_count and idf[word] >= min_idf]
    kept.sort(key=lambda word: (-counts[word], -idf[word], word))
    return kept[:max_keywords]


def write_independent_keywords_addition(
    *,
    prepared_dir: str,
    output_dir: str,
    frequencies: DocumentFrequencies,
    num_shards: int,
    max_keywords: int = 20,
    min_idf: float = 1.5,
    idf_base: str = "e",
) -> dict[str, Any]:
    """The SynCtxInd addition of every example of every split, sharded as a ranked dataset of `num_shards` shards.

    SynCtxInd is not trained, so training examples get keywords too. The prepared dataset is read one document
    shard at a time (a user's documents and examples share a shard), so memory holds one shard's documents.
    """
    dataset = PreparedDataset(prepared_dir)
    splits = [s for s in SPLITS if s in dataset.manifest["shards"]]
    shards: dict[str, list[list[dict[str, Any]]]] = {s: [[] for _ in range(num_shards)] for s in splits}
    for index in range(len(dataset.shard_paths("documents"))):
        texts = {d.doc_id: document_text(d) for d in dataset.documents(shard=index)}
        for split in splits:
            for example in dataset.examples(split, shard=index):
                missing = [doc_id for doc_id in example.context_doc_ids if doc_id not in texts]
                if missing:
                    raise KeyError(f"{dataset.shard_paths(split)[index]}: example {example.example_id!r} names "
                                   f"past documents {missing[:3]} missing from its document shard")
                keywords = independent_keywords(past_texts=[texts[d] for d in example.context_doc_ids],
                                                frequencies=frequencies, max_keywords=max_keywords, min_idf=min_idf,
                                                idf_base=idf_base)
                shards[split][shard_of(example.user_id, num_shards)].append(
                    {"example_id": example.example_id, "keywords": keywords})
    for split_shards in shards.values():
        for records in split_shards:
            records.sort(key=lambda r: r["example_id"])
    return write_addition(output_dir=output_dir, variant="SynCtxInd", shards=shards)
