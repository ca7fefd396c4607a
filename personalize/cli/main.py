"""Entry point: `personalize [--verbose] SUBCOMMAND [--gin_file=F] [--gin.X=Y] ...`."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from personalize.corpus.errors import BadRecordError
from personalize.preflight import PreflightError

# subcommand -> "module" or "module:ATTRIBUTE" with HELP, add_arguments(parser), run_command(args, gin_files, gin_bindings)
SUBCOMMANDS = {
    "prepare": "personalize.cli.prepare",
    "headline-corpus": "personalize.cli.headline_corpus",
    "rank": "personalize.cli.rank",
    "context-quality": "personalize.cli.context_quality",
    "inspect": "personalize.cli.inspect",
    "train": "personalize.cli.run_modes:TRAIN",
    "eval": "personalize.cli.run_modes:EVAL",
    "infer": "personalize.cli.run_modes:INFER",
    "experiment": "personalize.cli.experiment",
    "pretrain": "personalize.cli.pretrain",
    "export-checkpoint": "personalize.cli.export_checkpoint",
    "export": "personalize.cli.export",
    "evaluate-lamp": "personalize.cli.export:EVALUATE_LAMP",
    "compile": "personalize.cli.compile",
}


def _load(target: str):
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


VERBOSE_HELP = "show other libraries' warnings and native log lines (TensorFlow, absl, Beam, XLA), hidden by default"


def main(argv: Sequence[str] | None = None) -> int:
    """Runs a subcommand. From the command line (`argv` None) the console is set up first (personalize.console:
    other libraries' noise hidden unless --verbose); a caller passing `argv` (tests, scripts) keeps its own."""
    from personalize import gin_config
    from personalize.partitioning.platforms import leave_out_absent_tpu

    leave_out_absent_tpu()  # libtpu (the compile extra) without a TPU chip: no TPU runtime, no start-up errors

    gin_files, gin_bindings, rest = gin_config.split_gin_flags(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="personalize", description="Teach LLMs to Personalize, in JAX.")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, module_name in SUBCOMMANDS.items():  # imports stay light: heavy modules load inside run_command
        module = _load(module_name)
        modules[name] = module
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        sub.add_argument("--gin_file", action="append", help="gin file(s) to parse (repeatable)")
        sub.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
        module.add_arguments(sub)
    args = parser.parse_args(rest)
    if argv is None:
        from personalize.console import set_up_console

        set_up_console(verbose=args.verbose)
    try:
        return modules[args.command].run_command(args, gin_files, gin_bindings) or 0
    except BadRecordError as error:
        print(f"personalize {args.command}: bad input: {str(error).splitlines()[0]}\n  (use --skip_bad to skip and count such records)", file=sys.stderr)
        return 2
    except PreflightError as error:  # every missing outside resource with its fix, found before the first stage
        print(f"personalize {args.command}: {error.report()}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as error:
        print(f"personalize {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
