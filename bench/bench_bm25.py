"""Per-example RankDocBM25 time: in-process BM25 vs a filtered Lucene query through Pyserini's jar.

Same corpus (the shared blog corpus), same queries (the first 150 characters of each sampled post),
same candidates (the author's earlier posts); index building and document analysis are one-off costs
and not timed. Prints both times and the ratio (goal: in-process >= 10x faster). Also checks that both
give the same rankings.

    python bench/bench_bm25.py [--posts PATH] [--max-authors N] [--examples N] [--repeats N]
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import tempfile
import time
from pathlib import Path

from personalize.corpus.document import Document
from personalize.ranking import RankingQuery, make_strategy
from personalize.ranking.rank_doc_bm25 import InProcessBm25, LuceneBm25
from personalize.retrieval.bm25 import AnalyzedDocument, Bm25Scorer, CollectionStatistics
from personalize.retrieval.document_text import document_text
from personalize.retrieval.lucene_bm25 import LuceneBm25Searcher, build_lucene_index

DEFAULT_POSTS = Path(__file__).parents[1] / "../shared/data/blog-authorship/posts.jsonl"


def load_posts(*, path: Path, max_authors: int) -> list[Document]:
    records = [json.loads(line) for line in path.open(encoding="utf-8")]
    authors = set(sorted({r["author_id"] for r in records})[:max_authors])
    return [
        Document(user_id=r["author_id"], doc_id=f"{r['author_id']}-{r['seq']}", timestamp=float(r["seq"]), body=r["text"])
        for r in records
        if r["author_id"] in authors
    ]


def best_time(run, repeats: int):
    """(fastest of `repeats` timed runs after one warm-up run, the result of the last run)."""
    result = run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=Path, default=DEFAULT_POSTS)
    parser.add_argument("--max-authors", type=int, default=719)
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    documents = load_posts(path=args.posts, max_authors=args.max_authors)
    by_user = collections.defaultdict(list)
    for document in documents:
        by_user[document.user_id].append(document)
    rng = random.Random(0)
    currents = [d for d in documents if d.timestamp >= 2]
    rng.shuffle(currents)
    examples = [
        (
            RankingQuery(query_id=d.doc_id, user_id=d.user_id, timestamp=d.timestamp, text=d.body[:150]),
            [c for c in by_user[d.user_id] if c.timestamp < d.timestamp],
        )
        for d in currents[: args.examples]
    ]
    analyzed = {d.doc_id: AnalyzedDocument.from_text(doc_id=d.doc_id, text=document_text(d)) for d in documents}
    in_process = make_strategy(
        "RankDocBM25",
        source=InProcessBm25(scorer=Bm25Scorer(index_statistics=CollectionStatistics.from_documents(analyzed.values())), analyzed=analyzed),
    )
    # In-process first, so no JVM threads (JIT compiler, GC) share the CPU with it; each side is
    # timed as the best of `--repeats` passes over the same examples, after one warm-up pass.
    in_process_seconds, in_process_rankings = best_time(lambda: [in_process.rank(query=q, candidates=c) for q, c in examples], args.repeats)
    with tempfile.TemporaryDirectory() as index_dir:
        build_lucene_index(documents=documents, index_dir=index_dir)
        searcher = LuceneBm25Searcher(index_dir=index_dir)
        through_lucene = make_strategy("RankDocBM25", source=LuceneBm25(searcher=searcher))
        lucene_seconds, lucene_rankings = best_time(lambda: [through_lucene.rank(query=q, candidates=c) for q, c in examples], args.repeats)
        searcher.close()

    same = sum(a == b for a, b in zip(in_process_rankings, lucene_rankings))
    mean_candidates = sum(len(c) for _, c in examples) / len(examples)
    print(f"corpus: {len(documents)} posts of {len(by_user)} authors; {len(examples)} examples, {mean_candidates:.1f} candidates each")
    print(f"identical rankings: {same}/{len(examples)}")
    print(f"lucene (pyserini jar): {1e3 * lucene_seconds / len(examples):.3f} ms/example")
    print(f"in-process:            {1e3 * in_process_seconds / len(examples):.3f} ms/example")
    print(f"speed-up: {lucene_seconds / in_process_seconds:.1f}x")


if __name__ == "__main__":
    main()
