"""`personalize pretrain`: pre-train a from-scratch T5 on a corpus's training users, for experiments to start from."""

from __future__ import annotations

import argparse
import os

HELP = ("pre-train a T5 1.1-shaped model from scratch on the training users' documents of a corpus (span "
        "corruption + whole-document denoising); writes a checkpoint, its vocabulary and a report with a copy probe")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output_dir", required=True, help="checkpoint, vocabulary, report; rerun to resume")
    parser.add_argument("--dataset", help="a dataset config: gin/datasets/NAME.gin (blog_authorship, demo, ...); "
                                          "prepared into OUTPUT_DIR/prepared exactly as the experiment prepares it")
    parser.add_argument("--prepared_dir", help="or an already prepared dataset (`personalize prepare` output)")
    parser.add_argument("--input", action="append", default=None, help="override the dataset's input file(s)")
    parser.add_argument("--format", help="corpus format when no --dataset is given (as `personalize prepare`)")
    parser.add_argument("--fields", help="JSONL field mapping (as `personalize prepare`)")
    parser.add_argument("--loader_option", action="append", default=None, metavar="KEY=VALUE",
                        help="a loader keyword (as `personalize prepare`)")
    parser.add_argument("--model_size", default="tiny", help="gin/pretrain/model_NAME.gin (tiny, mini, wide)")
    parser.add_argument("--cpu_devices", default="1",
                        help="split a CPU host into this many JAX devices (auto: one per core, at most 2); "
                             "no effect on GPU/TPU hosts")


def _prepared_dir(args: argparse.Namespace) -> str:
    """The prepared dataset: given, reused from OUTPUT_DIR/prepared, or prepared there now."""
    from personalize import gin_config
    from personalize.cli.prepare import loader_options_from_flags
    from personalize.preparation import run

    if args.prepared_dir:
        if args.dataset or args.format or args.input:
            raise ValueError("give --prepared_dir or a corpus (--dataset / --format / --input), not both")
        return args.prepared_dir
    if not (args.dataset or args.format):
        raise ValueError("name the corpus: --dataset NAME, --format FORMAT --input PATH, or --prepared_dir DIR")
    prepared_dir = os.path.join(args.output_dir, "prepared")
    if os.path.exists(os.path.join(prepared_dir, "statistics.json")):
        return prepared_dir
    overrides = {key: value for key, value in {
        "format": args.format, "paths": args.input, "fields": args.fields,
        "loader_options": loader_options_from_flags(args.loader_option)}.items() if value is not None}
    if not args.dataset:
        overrides["name"] = args.format
    gin_config.configured(run.prepare_dataset)(output_dir=prepared_dir, **overrides)
    return prepared_dir


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    from personalize import gin_config
    from personalize.partitioning.cpu_devices import resolve_cpu_devices, split_cpu_into_devices
    from personalize.pretraining import stage

    # After the imports, as `personalize experiment` does.
    split_cpu_into_devices(count=resolve_cpu_devices(args.cpu_devices))
    corpus_gin = [f"datasets/{args.dataset}.gin"] if args.dataset else ["prepare/prepare.gin"]
    gin_config.parse_gin(corpus_gin + ["pretrain/pretrain.gin", f"pretrain/model_{args.model_size}.gin"] + gin_files,
                         gin_bindings)
    unused = gin_config.unreferenced_macros()
    if unused:
        raise ValueError(f"--gin macros that nothing uses: {sorted(unused)}")
    prepared_dir = _prepared_dir(args)
    report = gin_config.configured(stage.run_pretraining)(prepared_dir=prepared_dir, output_dir=args.output_dir)
    gin_config.write_operative_config(args.output_dir)
    probe = report["copy_probe"]["scores"]
    print(f"pre-trained {report['last_step']} steps, exported the best validation step {report['steps']}; copy probe: exact match {probe['exact_match']:.3f}, token accuracy "
          f"{probe['token_accuracy']:.3f}, ROUGE-L {probe['rougeL']:.2f}\n"
          f"checkpoint: {report['checkpoint']}\nreport: {os.path.join(args.output_dir, 'report.md')}\n"
          f"use it: personalize experiment --dataset ... --gin_file={report['start_gin']}")
    return 0
