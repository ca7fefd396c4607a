"""SynCtxInd keywords of one prepared dataset under two IDF bases, side by side (docs/synthesis_idf_base.md).

  python -m personalize.synthesis.idf_base_comparison --prepared_dir runs/prepared/amazon2023-users

The IDF floor (1.5) means a different document share for each base (idf.py); this measures what that does to the
keyword lists: how many content words each base drops, how many keywords an example gets, and which words only one
base lets in.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from typing import Any, Sequence

from personalize.preparation.dataset import PreparedDataset
from personalize.preparation.splits import SPLITS
from personalize.retrieval.document_text import document_text
from personalize.synthesis.idf import training_user_frequencies
from personalize.synthesis.keywords_independent import independent_keywords
from personalize.synthesis.words import content_words


def compare_idf_bases(*, prepared_dir: str, bases: Sequence[str] = ("e", "10"), min_idf: float = 1.5,
                      max_keywords: int = 20, top: int = 12) -> dict[str, Any]:
    """Per base: the content words under the floor and keyword-list sizes; across bases: overlap and differences."""
    dataset = PreparedDataset(prepared_dir)
    frequencies = training_user_frequencies(dataset=dataset)
    vocabulary = sorted(w for w in frequencies.document_frequency if list(content_words(w)) == [w])
    texts = {d.doc_id: document_text(d) for d in dataset.documents()}
    lists = {}
    for split in (s for s in SPLITS if s in dataset.manifest["shards"]):
        for example in dataset.examples(split):
            past = [texts[doc_id] for doc_id in example.context_doc_ids]
            lists[example.example_id] = {base: independent_keywords(
                past_texts=past, frequencies=frequencies, min_idf=min_idf, max_keywords=max_keywords,
                idf_base=base) for base in bases}
    per_base = {}
    for base in bases:
        dropped = sorted((w for w in vocabulary if frequencies.idf(w, base=base) < min_idf),
                         key=lambda w: (-frequencies.document_frequency[w], w))
        sizes = [len(keywords[base]) for keywords in lists.values()]
        others = [b for b in bases if b != base]
        only = Counter(w for keywords in lists.values() for w in set(keywords[base]).difference(
            *(keywords[b] for b in others)))
        per_base[base] = {
            "dropped_words": len(dropped),
            "most_common_dropped": [(w, frequencies.document_frequency[w]) for w in dropped[:top]],
            "mean_keywords": statistics.mean(sizes) if sizes else 0.0,
            "full_lists": sum(size == max_keywords for size in sizes),
            "empty_lists": sum(size == 0 for size in sizes),
            "only_this_base": only.most_common(top),
        }
    first, second = bases[0], bases[1]
    overlap = [len(set(k[first]) & set(k[second])) / max(len(set(k[first]) | set(k[second])), 1)
               for k in lists.values()]
    return {"num_documents": frequencies.num_documents, "content_words": len(vocabulary), "examples": len(lists),
            "bases": per_base, "mean_jaccard": statistics.mean(overlap) if overlap else 1.0,
            "example": next(iter(sorted(lists.items())), None)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prepared_dir", required=True)
    parser.add_argument("--bases", default="e,10", help="two or more of e, 10, 2 (comma-separated)")
    parser.add_argument("--min_idf", type=float, default=1.5)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    result = compare_idf_bases(prepared_dir=args.prepared_dir, bases=tuple(args.bases.split(",")),
                               min_idf=args.min_idf)
    print(f"IDF collection: {result['num_documents']} training-user documents, {result['content_words']} distinct "
          f"content words; {result['examples']} examples")
    for base, row in result["bases"].items():
        print(f"base {base}: {row['dropped_words']} content words under IDF {args.min_idf}; keywords per example "
              f"{row['mean_keywords']:.2f} (full {row['full_lists']}, empty {row['empty_lists']})")
        print(f"  most common dropped (df): {', '.join(f'{w} ({n})' for w, n in row['most_common_dropped'])}")
        print(f"  only under base {base} (examples): {', '.join(f'{w} ({n})' for w, n in row['only_this_base'])}")
    print(f"mean Jaccard overlap of an example's lists: {result['mean_jaccard']:.3f}")
    if result["example"]:
        example_id, keywords = result["example"]
        for base, words in keywords.items():
            print(f"{example_id} base {base}: {', '.join(words)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
