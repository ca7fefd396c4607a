"""`personalize prepare`: a corpus in, prepared shards and the Table 1 statistics out."""

from __future__ import annotations

import argparse
import pathlib
from typing import Any

from personalize import gin_config
from personalize.preparation import run

HELP = "apply the paper's data preparation to a corpus and print its Table 1 statistics"


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that describe a corpus without a gin dataset file (`prepare` and `experiment` share them)."""
    parser.add_argument("--format", help="corpus format: demo, jsonl, amazon, reddit, email (mbox, maildir, .eml folders), longlamp, lamp")
    parser.add_argument("--input", action="append", default=None, help="an input file or folder (repeatable)")
    parser.add_argument("--fields", help="JSONL field mapping, e.g. user_id=author,body=text,timestamp=date,title=subject")
    parser.add_argument("--name", help="the dataset name shown in tables (default: the dataset gin's, else the first "
                                       "input's file name without its extension)")
    parser.add_argument("--skip_bad", action="store_true", default=None, help="skip and count bad records instead of failing")
    parser.add_argument("--loader_option", action="append", default=None, metavar="KEY=VALUE",
                        help="a loader keyword, e.g. version=2018 (amazon), task=LaMP_4 or outputs=PATH (lamp)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", help="a dataset config: gin/datasets/NAME.gin (e.g. demo, blog_authorship)")
    parser.add_argument("--output_dir", required=True, help="where the prepared shards and statistics go")
    add_corpus_arguments(parser)
    parser.add_argument("--num_shards", type=int, help="number of output shards per split")


def loader_options_from_flags(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--loader_option {item!r} is not KEY=VALUE")
        options[key.strip()] = value
    return options


def corpus_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """`run.prepare_dataset`'s keywords that the corpus flags set. Without a dataset gin file the name defaults to
    the first input's file name without its extension (posts.jsonl -> posts), else the format."""
    overrides = {
        key: value
        for key, value in {
            "format": args.format,
            "paths": args.input,
            "fields": args.fields,
            "name": args.name,
            "skip_bad": args.skip_bad,
            "loader_options": loader_options_from_flags(args.loader_option),
        }.items()
        if value is not None
    }
    if not args.dataset and "name" not in overrides:
        overrides["name"] = pathlib.Path(args.input[0]).stem if args.input else (args.format or "corpus")
    return overrides


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    files = ([f"datasets/{args.dataset}.gin"] if args.dataset else ["prepare/prepare.gin"]) + gin_files
    gin_config.parse_gin(files, gin_bindings)
    overrides = corpus_overrides(args)
    if args.num_shards is not None:
        overrides["num_shards"] = args.num_shards
    gin_config.configured(run.prepare_dataset)(output_dir=args.output_dir, **overrides)
    gin_config.write_operative_config(args.output_dir)
    return 0
