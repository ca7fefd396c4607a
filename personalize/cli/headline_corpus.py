"""`personalize headline-corpus`: titled documents in, a document/summary JSONL out (SumCtxInd's public corpus).

  personalize headline-corpus --format amazon --input reviews.jsonl --output headlines.jsonl
  personalize headline-corpus --format jsonl --input sent.jsonl --output subjects.jsonl \\
      --fields user_id=mailbox,title=subject,body=body_own,timestamp=timestamp
  personalize headline-corpus --prepared_dir runs/prepared/enron --output headlines.jsonl   # training users only
"""

from __future__ import annotations

import argparse

from personalize.cli.prepare import loader_options_from_flags
from personalize.corpus.errors import RecordReport
from personalize.corpus.sources import load_documents
from personalize.summarization import headline_corpus

HELP = "build a headline summarization corpus (title = summary of the body) for SumCtxInd from a titled corpus"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--format", help="corpus format as for `personalize prepare`: demo, jsonl, amazon, email, ...")
    source.add_argument("--prepared_dir", help="a prepared dataset: only its training-only users' documents are used")
    parser.add_argument("--input", action="append", default=None, help="an input file or folder (repeatable)")
    parser.add_argument("--fields", help="JSONL field mapping, e.g. user_id=author,body=text,timestamp=date,title=subject")
    parser.add_argument("--loader_option", action="append", default=None, metavar="KEY=VALUE",
                        help="a loader keyword, e.g. version=2018 (amazon)")
    parser.add_argument("--skip_bad", action="store_true", help="skip and count bad records instead of failing")
    parser.add_argument("--output", required=True, help="the document/summary JSONL to write")
    parser.add_argument("--min_body_chars", type=int, default=100, help="shorter bodies are skipped (default: 100)")
    parser.add_argument("--max_records", type=int, help="stop after this many records")


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    if gin_files or gin_bindings:
        raise ValueError(f"headline-corpus takes no gin configuration (got {gin_files + gin_bindings})")
    limits = {"min_body_chars": args.min_body_chars, "max_records": args.max_records}
    if args.prepared_dir:
        if args.input or args.fields or args.loader_option or args.skip_bad:
            raise ValueError("--prepared_dir reads the prepared documents: give no --input, --fields, "
                             "--loader_option or --skip_bad with it")
        report = headline_corpus.write_prepared_headline_corpus(prepared_dir=args.prepared_dir,
                                                                output_path=args.output, **limits)
    else:
        loaded = RecordReport(source=", ".join(args.input or []) or args.format, skip_bad=args.skip_bad)
        documents = load_documents(format=args.format, paths=args.input or [], report=loaded, fields=args.fields,
                                   options=loader_options_from_flags(args.loader_option))
        report = headline_corpus.write_headline_corpus(documents=documents, output_path=args.output,
                                                       source="headline corpus", **limits)
        print(loaded.format())
    print(report.format())
    print(f"wrote {report.kept} records to {args.output}")
    return 0
