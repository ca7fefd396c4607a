"""RankDocBM25 as the ranking stage runs it: in-process BM25 vs Pyserini/Lucene doing the same job, one run.

What is timed is what `personalize rank` does for RankDocBM25 (personalize/pipeline/rank_contexts.py):
- once per dataset, the collection statistics (every document analysed: N, df, average length), on the Lucene
  side the index of every document;
- per user, `UserRanker` with a fresh scorer: the user's candidate documents analysed again and put in a fresh
  table, then per example the scores, the ranking and the context text (`rank_example`) and the ranked-context
  record. On the Lucene side the same records, with the scores from a user- and time-filtered query
  (`LuceneBm25`) instead of the in-process scorer.

Input: a prepared dataset (`--prepared_dir`), by default the blog corpus (../shared/data/blog-authorship) prepared
first with gin/datasets/blog_authorship.gin. Whole users are taken, in a seeded random order, until `--examples`
examples are reached. Per-user work is the best of `--repeats` passes after one warm-up pass (the JVM compiles
on its first); each one-off cost is measured once. Prints both, the per-example ratio and the ratio with the
one-off costs included (goal: >= 10x), per wall-clock second and per CPU second of this process (JVM threads
included; the fairer number on a shared machine), and how many rankings (entry ids, scores, context text) are
identical.

    .venv/bin/python bench/bench_bm25.py [--prepared_dir DIR] [--examples 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from typing import Any, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from personalize.console import native_stderr_quieted  # noqa: E402
from personalize.corpus.document import Document  # noqa: E402
from personalize.pipeline.rank_contexts import RankingSettings, UserRanker, index_statistics  # noqa: E402
from personalize.preparation.dataset import PreparedDataset  # noqa: E402
from personalize.preparation.example import Example  # noqa: E402
from personalize.preparation.splits import SPLITS  # noqa: E402
from personalize.ranking import RankingQuery, make_strategy, rank_example  # noqa: E402
from personalize.ranking.rank_doc_bm25 import LuceneBm25  # noqa: E402
from personalize.retrieval.lucene_bm25 import LuceneBm25Searcher, build_lucene_index  # noqa: E402

SETTINGS = RankingSettings(strategies=("RankDocBM25",))


def _prepare_blog(directory: str) -> str:
    output = os.path.join(directory, "blog_prepared")
    subprocess.run([sys.executable, "-m", "personalize.cli.main", "prepare", "--dataset", "blog_authorship",
                    "--output_dir", output], cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return output


def _users(dataset: PreparedDataset, *, examples: int) -> list[tuple[list[Document], list[Example]]]:
    """(documents, examples) of whole users, in a seeded random order, until `examples` examples are reached."""
    documents = dataset.documents_by_user()
    by_user: dict[str, list[Example]] = {}
    for split in (split for split in SPLITS if split in dataset.manifest["shards"]):
        for example in dataset.examples(split):
            by_user.setdefault(example.user_id, []).append(example)
    order = sorted(by_user)
    random.Random(0).shuffle(order)
    users, count = [], 0
    for user_id in order:
        if count >= examples:
            break
        users.append((documents[user_id], by_user[user_id]))
        count += len(by_user[user_id])
    return users


def lucene_user_contexts(*, searcher: LuceneBm25Searcher, documents: Sequence[Document],
                         examples: Sequence[Example]) -> list[dict[str, Any]]:
    """`rank_user_contexts`' records for RankDocBM25, scored by a filtered Lucene query."""
    by_id = {d.doc_id: d for d in documents}
    strategy = make_strategy("RankDocBM25", source=LuceneBm25(searcher=searcher))
    records = []
    for example in examples:
        query = RankingQuery(query_id=example.example_id, user_id=example.user_id, timestamp=example.timestamp,
                             text=example.immediate_context)
        candidates = [by_id[doc_id] for doc_id in example.context_doc_ids]
        ranking = rank_example(strategy=strategy, query=query, candidates=candidates, max_chars=SETTINGS.max_chars,
                               separator=SETTINGS.separator)
        records.append({
            "example_id": example.example_id, "user_id": example.user_id, "doc_id": example.doc_id,
            "split": example.split, "title": example.title, "immediate_context": example.immediate_context,
            "target": example.target, "contexts": {"RankDocBM25": {"entry_ids": list(ranking.entry_ids),
                                                                   "scores": list(ranking.scores),
                                                                   "text": ranking.context}},
        })
    return records


def _timed_once(run) -> tuple[tuple[float, float], Any]:
    """((wall-clock seconds, CPU seconds of this process, JVM threads included), result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def _best_time(run, repeats: int) -> tuple[tuple[float, float], Any]:
    """(fastest wall and CPU seconds of `repeats` timed runs after one warm-up run, the result of the last run)."""
    result = run()
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        seconds, result = _timed_once(run)
        best = (min(best[0], seconds[0]), min(best[1], seconds[1]))
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepared_dir", help="a prepared dataset; default: the blog corpus, prepared first")
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        prepared_dir = args.prepared_dir or _prepare_blog(work)
        dataset = PreparedDataset(prepared_dir)
        all_documents = list(dataset.documents())
        users = _users(dataset, examples=args.examples)
        num_examples = sum(len(examples) for _, examples in users)
        mean_candidates = sum(len(e.context_doc_ids) for _, examples in users for e in examples) / num_examples

        # In-process first, so no JVM threads (JIT compiler, GC) share the CPU with it.
        statistics_seconds, statistics = _timed_once(lambda: index_statistics(all_documents))
        ranker = UserRanker(settings=SETTINGS, statistics=statistics)
        ours_seconds, ours = _best_time(
            lambda: [r for documents, examples in users for r in ranker(documents=documents, examples=examples)],
            args.repeats)

        index_dir = os.path.join(work, "lucene_index")
        with native_stderr_quieted():  # the JVM's start-up warnings (Java version, sun.misc.Unsafe)
            index_seconds, _ = _timed_once(lambda: build_lucene_index(documents=all_documents, index_dir=index_dir))
            searcher = LuceneBm25Searcher(index_dir=index_dir)
        try:
            lucene_seconds, lucene = _best_time(
                lambda: [r for documents, examples in users
                         for r in lucene_user_contexts(searcher=searcher, documents=documents, examples=examples)],
                args.repeats)
        finally:
            searcher.close()

    def ranking(record: dict[str, Any]) -> tuple:
        context = record["contexts"]["RankDocBM25"]
        return record["example_id"], tuple(context["entry_ids"]), tuple(context["scores"]), context["text"]

    same = sum(ranking(a) == ranking(b) for a, b in zip(ours, lucene))
    print(f"prepared dataset: {prepared_dir if args.prepared_dir else 'the blog corpus, prepared in this run'}: "
          f"{len(all_documents)} documents; {num_examples} examples of {len(users)} users, "
          f"{mean_candidates:.1f} candidates each")
    print(f"identical rankings (entry ids, scores, context text): {same}/{num_examples}")
    print(f"one-off, every document: lucene index {_seconds(index_seconds)}, "
          f"in-process collection statistics {_seconds(statistics_seconds)}")
    print(f"per user (fresh scorer, analysis, rankings, records): lucene {_per_example(lucene_seconds, num_examples)}, "
          f"in-process {_per_example(ours_seconds, num_examples)} -> {_ratios(lucene_seconds, ours_seconds)}")
    lucene_total = tuple(a + b for a, b in zip(index_seconds, lucene_seconds))
    ours_total = tuple(a + b for a, b in zip(statistics_seconds, ours_seconds))
    print(f"with the one-off costs, for these {num_examples} examples: lucene {_seconds(lucene_total)}, "
          f"in-process {_seconds(ours_total)} -> {_ratios(lucene_total, ours_total)}")
    print("goal: in-process >= 10x")


def _seconds(seconds: tuple[float, float]) -> str:
    return f"{seconds[0]:.2f} s ({seconds[1]:.2f} CPU-s)"


def _per_example(seconds: tuple[float, float], count: int) -> str:
    return f"{1e3 * seconds[0] / count:.3f} ms/example ({1e3 * seconds[1] / count:.3f} CPU-ms)"


def _ratios(reference: tuple[float, float], ours: tuple[float, float]) -> str:
    return f"{reference[0] / ours[0]:.1f}x wall-clock, {reference[1] / ours[1]:.1f}x per CPU second"

if __name__ == "__main__":
    main()
