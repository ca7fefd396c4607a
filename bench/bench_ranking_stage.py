"""Ranking-stage throughput and peak memory at two corpus sizes (half and all users), as ratios.

    .venv/bin/python bench/bench_ranking_stage.py [--prepared_dir=P] [--strategies=RecentDoc,RankDocBM25]
        [--mode=in_process|beam] [--users_per_shard=60] [--cache_dir=C]

Without --prepared_dir the blog corpus (../shared/data/blog-authorship) is prepared first
(gin/datasets/blog_authorship.gin). From it two prepared datasets are written: the users of one md5 half, and all
users, each with about `users_per_shard` users per shard, since a shard is the stage's unit of memory. Each size is
ranked in a fresh subprocess; the stage's wall time (inside the child, imports excluded) gives examples/s and
`os.wait4`'s ru_maxrss the child's peak memory. The printed ratios are all-users / half-users: examples/s should stay
near 1 and peak memory should not grow with the number of users (in-process mode; Beam's DirectRunner keeps whole
PCollections in memory and is shown for reference only).

Dense strategies encode on this machine's CPU (minutes for thousands of texts): the default set is the two that
need no encoder; pass --strategies=... and a warm --cache_dir to include the dense ones.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(args: argparse.Namespace) -> None:
    from personalize.pipeline import beam_ranking

    start = time.perf_counter()
    counts = beam_ranking.rank_dataset(
        prepared_dir=args.prepared_dir, output_dir=args.output_dir, strategies=args.strategies.split(","),
        cache_dir=args.cache_dir, in_process=args.mode == "in_process",
        pipeline_args=[] if args.mode == "in_process" else ["--runner=DirectRunner"])
    print(json.dumps({"seconds": time.perf_counter() - start, "examples": counts.get("examples_out", 0),
                      "users": counts.get("users", 0)}))


def _prepare_blog(directory: str) -> str:
    output = os.path.join(directory, "blog_prepared")
    subprocess.run([sys.executable, "-m", "personalize.cli.main", "prepare", "--dataset", "blog_authorship",
                    "--output_dir", output], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return output


def _write_subset(*, prepared_dir: str, output_dir: str, half: bool, users_per_shard: int) -> int:
    from personalize.preparation.dataset import PreparedDataset, shard_of, write_prepared_dataset

    dataset = PreparedDataset(prepared_dir)
    documents = {user: docs for user, docs in dataset.documents_by_user().items()
                 if not half or shard_of(user, 2) == 0}
    examples = [e for split in ("train", "validation", "test") for e in dataset.examples(split)
                if e.user_id in documents]
    num_shards = max(1, round(len({e.user_id for e in examples}) / users_per_shard))
    write_prepared_dataset(output_dir=output_dir, documents_by_user=documents, examples=examples,
                           num_shards=num_shards, settings={"bench_subset": "half" if half else "all"})
    return len(examples)


def _measure(args: argparse.Namespace, *, prepared_dir: str, output_dir: str) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--child", "--prepared_dir", prepared_dir,
               "--output_dir", output_dir, "--strategies", args.strategies, "--mode", args.mode]
    if args.cache_dir:
        command += ["--cache_dir", args.cache_dir]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"ranking child failed ({status}): {' '.join(command)}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux: kilobytes
    result["examples_per_s"] = result["examples"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepared_dir", help="a prepared dataset (default: prepare the blog corpus)")
    parser.add_argument("--output_dir", help="(child) ranked output")
    parser.add_argument("--strategies", default="RecentDoc,RankDocBM25")
    parser.add_argument("--mode", choices=("in_process", "beam"), default="in_process")
    parser.add_argument("--users_per_shard", type=int, default=60)
    parser.add_argument("--cache_dir", help="embedding cache for dense strategies")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    with tempfile.TemporaryDirectory() as work:
        full_prepared = args.prepared_dir or _prepare_blog(work)
        rows = {}
        for name, half in (("half users", True), ("all users", False)):
            subset = os.path.join(work, f"prepared_{'half' if half else 'all'}")
            _write_subset(prepared_dir=full_prepared, output_dir=subset, half=half,
                          users_per_shard=args.users_per_shard)
            rows[name] = _measure(args, prepared_dir=subset, output_dir=os.path.join(work, f"ranked_{name[:4]}"))
    print(f"ranking stage, mode={args.mode}, strategies={args.strategies}")
    print("| size | users | examples | seconds | examples/s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['users']} | {row['examples']} | {row['seconds']:.1f} | {row['examples_per_s']:.1f} "
              f"| {row['peak_rss_mib']:.0f} |")
    half, full = rows["half users"], rows["all users"]
    print(f"ratio all/half: examples/s {full['examples_per_s'] / half['examples_per_s']:.2f}, "
          f"peak memory {full['peak_rss_mib'] / half['peak_rss_mib']:.2f} "
          f"(users x{full['users'] / max(half['users'], 1):.2f})")


if __name__ == "__main__":
    main()
