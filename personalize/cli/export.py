"""`personalize export` (our predictions -> LaMP / LongLaMP files) and `personalize evaluate-lamp` (score such files).

    personalize export --predictions PREDICTIONS.jsonl --task LongLaMP_2 --output preds.json --golds_output golds.json
    personalize evaluate-lamp --golds golds.json --predictions preds.json [--wordnet_dir DIR] [--output scores.json]

This module is the `export` subcommand; `EVALUATE_LAMP` is the `evaluate-lamp` one (same HELP / add_arguments /
run_command interface).
"""

from __future__ import annotations

import argparse
import json
import sys
import types

from personalize.lamp_format.evaluate import evaluate_files
from personalize.lamp_format.export import export_predictions
from personalize.lamp_format.meteor import DEFAULT_WORDNET_DIR
from personalize.lamp_format.tasks import TASKS

HELP = "export prediction JSONL (example_id, prediction, target) as a LaMP / LongLaMP predictions (and golds) file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--predictions", required=True, help="our prediction JSONL: example_id, prediction, target")
    parser.add_argument("--task", required=True, choices=list(TASKS), help="the task name written into the files")
    parser.add_argument("--output", required=True, help='the predictions file to write: {"task", "golds": [{"id", "output"}]}')
    parser.add_argument("--golds_output", help="also write the targets as a golds file in the same shape")


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    _refuse_gin(gin_files, gin_bindings, "export")
    count = export_predictions(
        predictions_path=args.predictions, task=args.task, output_path=args.output, golds_output_path=args.golds_output
    )
    written = args.output + (f" and {args.golds_output}" if args.golds_output else "")
    print(f"{count:,} {args.task} examples written to {written}")
    return 0


def _refuse_gin(gin_files: list[str], gin_bindings: list[str], command: str) -> None:
    if gin_files or gin_bindings:
        raise ValueError(f"{command} takes no gin configuration (got {gin_files + gin_bindings})")


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--golds", required=True, help='a golds file: {"task", "golds": [{"id", "output"}]}')
    parser.add_argument("--predictions", required=True, help="a predictions file in the same shape")
    parser.add_argument("--wordnet_dir", default=DEFAULT_WORDNET_DIR,
                        help="WordNet 3.0 database folder for METEOR (Debian wordnet-base, or nltk_data/corpora/wordnet)")
    parser.add_argument("--work_dir", help="where a readable copy of a Debian WordNet folder is assembled (default: temp)")
    parser.add_argument("--use_stemmer", action="store_true", help="Porter-stem before ROUGE (the benchmarks do not)")
    parser.add_argument("--output", help="also write the scores as JSON here")


def _evaluate(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    _refuse_gin(gin_files, gin_bindings, "evaluate-lamp")
    scores = evaluate_files(
        golds_path=args.golds,
        predictions_path=args.predictions,
        wordnet_dir=args.wordnet_dir,
        work_dir=args.work_dir,
        use_stemmer=args.use_stemmer,
    )
    if "meteor_skipped" in scores:
        print(f"evaluate-lamp: METEOR skipped: {scores['meteor_skipped']}", file=sys.stderr)
    text = json.dumps(scores, indent=1, sort_keys=True)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    print(text)
    return 0


EVALUATE_LAMP = types.SimpleNamespace(
    HELP="score a LaMP / LongLaMP predictions file against its golds file: ROUGE-1, ROUGE-L, METEOR",
    add_arguments=_evaluate_arguments,
    run_command=_evaluate,
)
