"""`personalize experiment`: the paper's results table for one corpus (all stages, every row)."""

from __future__ import annotations

import argparse

HELP = "run every stage and row of the paper on one corpus and write the results table (Markdown, CSV, plots)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help="a dataset config: gin/datasets/NAME.gin (demo, blog_authorship, ...)")
    parser.add_argument("--output_dir", required=True, help="results and the reusable artifacts of every stage")
    parser.add_argument("--model_size", default="tiny", help="gin/experiments/model_NAME.gin (tiny, small, ...)")
    parser.add_argument("--rows", help="comma-separated rows (default: all rows of the paper's tables)")
    parser.add_argument("--input", action="append", default=None, help="override the dataset's input file(s)")
    parser.add_argument("--cpu_devices", default="1",
                        help="split a CPU host into this many JAX devices (auto: one per core, at most 2); "
                             "training then runs data-parallel over them, so the default 1 keeps the README's "
                             "tables reproducible; no effect on GPU/TPU hosts")


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    import gin

    from personalize import gin_config
    from personalize.experiment import runner
    from personalize.partitioning.cpu_devices import resolve_cpu_devices, split_cpu_into_devices
    from personalize.preparation import prepare, run

    split_cpu_into_devices(count=resolve_cpu_devices(args.cpu_devices))

    files = [f"datasets/{args.dataset}.gin", "experiments/experiment.gin", f"experiments/model_{args.model_size}.gin"]
    gin_config.parse_gin(files + gin_files, gin_bindings)
    prepare_dataset = gin_config.configured(run.prepare_dataset)
    if args.input:
        original = prepare_dataset
        prepare_dataset = lambda **kwargs: original(paths=args.input, **kwargs)  # noqa: E731
    prepare_config = {
        "dataset": args.dataset,
        "inputs": args.input,
        "prepare_dataset": {k: v for k, v in gin.get_bindings(run.prepare_dataset).items() if k != "prepare"},
        "prepare_corpus": gin.get_bindings(prepare.prepare_corpus),
    }
    if prepare_config["prepare_dataset"].get("format") == "demo":
        from personalize.corpus.demo_corpus import VERSION

        prepare_config["demo_corpus_version"] = VERSION
    overrides = {"rows": tuple(r.strip() for r in args.rows.split(","))} if args.rows else {}
    gin_config.configured(runner.run_experiment)(output_dir=args.output_dir, prepare=prepare_dataset,
                                                 prepare_config=prepare_config, **overrides)
    gin_config.write_operative_config(args.output_dir)
    return 0
