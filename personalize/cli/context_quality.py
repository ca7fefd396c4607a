"""`personalize context-quality`: how much of each real document the ranked contexts already hold (no model)."""

from __future__ import annotations

import argparse

from personalize import gin_config

HELP = "ROUGE recall/precision of every ranked context against the real documents, as Markdown, CSV and a plot"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ranked_dir", required=True, help="ranked contexts (`personalize rank`)")
    parser.add_argument("--output_dir", required=True, help="where context_quality.{md,csv,json,png} go")
    parser.add_argument("--split", help="the split to score (default: test)")
    parser.add_argument("--max_examples", type=int, help="score a fixed random subset of this many examples")
    parser.add_argument("--seed", type=int, help="seed of the subset and of the RandomUser draw")


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    # Flags become gin bindings (after the files and --gin. overrides), so config.gin records the whole run.
    flags = {"ranked_dir": args.ranked_dir, "output_dir": args.output_dir, "split": args.split,
             "max_examples": args.max_examples, "seed": args.seed}
    bindings = [f"report.write_context_quality_report.{key} = {value!r}"
                for key, value in flags.items() if value is not None]
    gin_config.parse_gin(["ranking/context_quality.gin"] + gin_files, list(gin_bindings) + bindings)
    from personalize.context_quality import report

    gin_config.configured(report.write_context_quality_report)()
    gin_config.write_operative_config(args.output_dir)
    with open(f"{args.output_dir}/context_quality.md", encoding="utf-8") as handle:
        print(handle.read(), end="")  # the same table, with the same title (naming the split), as the file
    return 0
