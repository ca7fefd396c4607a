"""`personalize experiment`: the paper's results table for one corpus (all stages, every row).

The corpus is a dataset gin file (`--dataset NAME`: gin/datasets/NAME.gin) or, for a new corpus, the flags of
`personalize prepare` (`--format jsonl --input F --fields ... --name NAME`), with no gin file to write.
"""

from __future__ import annotations

import argparse
import functools

from personalize.cli.prepare import add_corpus_arguments, corpus_overrides

HELP = "run every stage and row of the paper on one corpus and write the results table (Markdown, CSV, plots)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", help="a dataset config: gin/datasets/NAME.gin (demo, blog_authorship, ...); "
                                          "or describe a new corpus with --format, --input, --fields and --name")
    parser.add_argument("--output_dir", required=True, help="results and the reusable artifacts of every stage")
    parser.add_argument("--model_size", default="tiny", help="gin/experiments/model_NAME.gin (tiny, small, ...)")
    parser.add_argument("--rows", help="comma-separated rows (default: all rows of the paper's tables)")
    add_corpus_arguments(parser)  # with --dataset, --input (repeatable) and the others override the dataset's
    parser.add_argument("--wordnet_dir",
                        help="the WordNet 3.0 database folder +SynCtx reads (default: the installed one; gin: "
                             "runner.run_experiment.wordnet_dir)")
    parser.add_argument("--cpu_devices", default="1",
                        help="split a CPU host into this many JAX devices (auto: one per core, at most 2); "
                             "training then runs data-parallel over them, so the default 1 keeps the README's "
                             "tables reproducible; no effect on GPU/TPU hosts")


def corpus_files(args: argparse.Namespace) -> list[str]:
    """The gin files of the corpus: the dataset's, or preparation's defaults for a corpus given by flags."""
    if bool(args.dataset) == bool(args.format):
        raise ValueError("give the corpus either as --dataset NAME (gin/datasets/NAME.gin) or as --format FORMAT "
                         "with --input, --fields and --name (a new corpus), " +
                         ("not both" if args.dataset else "neither was given"))
    return [f"datasets/{args.dataset}.gin"] if args.dataset else ["prepare/prepare.gin"]


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    import gin

    from personalize import gin_config
    from personalize.experiment import runner
    from personalize.partitioning.cpu_devices import resolve_cpu_devices, split_cpu_into_devices
    from personalize.preparation import prepare, run

    files = corpus_files(args) + ["experiments/experiment.gin", f"experiments/model_{args.model_size}.gin"]
    split_cpu_into_devices(count=resolve_cpu_devices(args.cpu_devices))
    bindings = list(gin_bindings)
    if args.wordnet_dir:
        bindings.append(f"runner.run_experiment.wordnet_dir = {args.wordnet_dir!r}")
    gin_config.parse_gin(files + gin_files, bindings)
    overrides = corpus_overrides(args)
    prepare_dataset = functools.partial(gin_config.configured(run.prepare_dataset), **overrides)
    bound = {k: v for k, v in gin.get_bindings(run.prepare_dataset).items() if k != "prepare"}
    prepare_config = {
        "dataset": args.dataset,
        "inputs": args.input,
        "prepare_dataset": bound,
        "prepare_corpus": gin.get_bindings(prepare.prepare_corpus),
    }
    flags = {k: v for k, v in overrides.items() if k != "paths"}
    if flags:  # only then: the key of a dataset run without these flags stays what it was
        prepare_config["corpus_flags"] = flags
    corpus = {key: overrides.get(key, bound.get(key)) for key in ("format", "paths", "fields")}
    if corpus["format"] == "demo":
        from personalize.corpus.demo_corpus import VERSION

        prepare_config["demo_corpus_version"] = VERSION
    rows = {"rows": tuple(r.strip() for r in args.rows.split(","))} if args.rows else {}
    gin_config.configured(runner.run_experiment)(output_dir=args.output_dir, prepare=prepare_dataset,
                                                 prepare_config=prepare_config, corpus=corpus, **rows)
    gin_config.write_operative_config(args.output_dir)
    return 0
