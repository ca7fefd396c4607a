"""`personalize prepare`: a corpus in, prepared shards and the Table 1 statistics out."""

from __future__ import annotations

import argparse

from personalize import gin_config
from personalize.preparation import run

HELP = "apply the paper's data preparation to a corpus and print its Table 1 statistics"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", help="a dataset config: gin/datasets/NAME.gin (e.g. demo, blog_authorship)")
    parser.add_argument("--output_dir", required=True, help="where the prepared shards and statistics go")
    parser.add_argument("--format", help="corpus format: demo, jsonl, amazon, reddit, email (mbox, maildir, .eml folders), longlamp, lamp")
    parser.add_argument("--input", action="append", default=None, help="an input file or folder (repeatable)")
    parser.add_argument("--fields", help="JSONL field mapping, e.g. user_id=author,body=text,timestamp=date,title=subject")
    parser.add_argument("--name", help="the dataset name shown in tables")
    parser.add_argument("--skip_bad", action="store_true", default=None, help="skip and count bad records instead of failing")
    parser.add_argument("--num_shards", type=int, help="number of output shards per split")
    parser.add_argument("--loader_option", action="append", default=None, metavar="KEY=VALUE",
                        help="a loader keyword, e.g. version=2018 (amazon), task=LaMP_4 or outputs=PATH (lamp)")


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


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    files = ([f"datasets/{args.dataset}.gin"] if args.dataset else ["prepare/prepare.gin"]) + gin_files
    gin_config.parse_gin(files, gin_bindings)
    overrides = {
        key: value
        for key, value in {
            "format": args.format,
            "paths": args.input,
            "fields": args.fields,
            "name": args.name,
            "skip_bad": args.skip_bad,
            "num_shards": args.num_shards,
            "loader_options": loader_options_from_flags(args.loader_option),
        }.items()
        if value is not None
    }
    if not args.dataset and "name" not in overrides:
        overrides["name"] = args.format or "corpus"
    gin_config.configured(run.prepare_dataset)(output_dir=args.output_dir, **overrides)
    gin_config.write_operative_config(args.output_dir)
    return 0
