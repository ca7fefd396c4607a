"""Preparation of the blog corpus: wall time and peak memory, as ratios against references in the same run.

References: the time to merely parse every line of the same file with `json.loads`, and the peak
memory of a Python process that only imports the package. Run from the repository root:

    .venv/bin/python bench/bench_prepare.py [--input ../shared/data/blog-authorship/posts.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CHILD = """
import json, resource, sys, time
mode, path, out = sys.argv[1:4]
from personalize.corpus.errors import RecordReport
from personalize.corpus.sources import load_documents
from personalize.preparation.dataset import write_prepared_dataset
from personalize.preparation.prepare import prepare_corpus
start = time.perf_counter()
if mode == "prepare":
    report = RecordReport(source=path, skip_bad=True)
    documents = load_documents(format="jsonl", paths=[path], report=report,
                               fields="user_id=author_id,body=text,timestamp=date")
    corpus = prepare_corpus(documents)
    write_prepared_dataset(output_dir=out, documents_by_user=corpus.documents_by_user, examples=corpus.examples,
                           num_shards=4, settings={})
    count = len(corpus.examples)
elif mode == "parse":
    with open(path, encoding="utf-8") as handle:
        count = sum(1 for line in handle if json.loads(line))
else:
    count = 0
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "count": count,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(mode: str, path: str, out: str) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, mode, path, out], check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", default=os.path.join("..", "shared", "data", "blog-authorship", "posts.jsonl"))
    args = parser.parse_args()
    if not os.path.exists(args.input):
        sys.exit(f"{args.input} not found (the shared blog corpus)")
    with tempfile.TemporaryDirectory() as out:
        idle = measure("idle", args.input, out)
        parse = measure("parse", args.input, out)
        prepare = measure("prepare", args.input, out)
    size_mib = os.path.getsize(args.input) / 2**20
    print(f"input: {args.input} ({size_mib:.1f} MiB, {parse['count']} posts) -> {prepare['count']} examples")
    print(f"prepare: {prepare['seconds']:.2f}s; json parse only: {parse['seconds']:.2f}s;"
          f" ratio prepare/parse = {prepare['seconds'] / parse['seconds']:.1f}x")
    print(f"peak memory: prepare {prepare['peak_mib']:.0f} MiB; imports only {idle['peak_mib']:.0f} MiB;"
          f" added by preparation {prepare['peak_mib'] - idle['peak_mib']:.0f} MiB"
          f" = {(prepare['peak_mib'] - idle['peak_mib']) / size_mib:.1f}x the input size")


if __name__ == "__main__":
    main()
