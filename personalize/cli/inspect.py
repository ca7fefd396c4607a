"""`personalize inspect NAME`: a task or mixture's tasks and rates, decoded examples and token lengths.

Datasets are registered by `import tasks` (from $PERSONALIZE_DATASETS) and by gin bindings of
`tasks.register_datasets.datasets` (see gin/tasks/register.gin).
"""

from __future__ import annotations

import argparse
import importlib

from personalize import gin_config

HELP = "show a SeqIO task or mixture: its tasks and rates, decoded examples, token-length distribution"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="a registered task or mixture, e.g. personalize_demo_rankdocbysnpt_v1")
    parser.add_argument("--split", default="validation", help="the split to read (default: validation)")
    parser.add_argument("--num_examples", type=int, default=2, help="decoded examples shown per task")
    parser.add_argument("--feature_lengths", default="inputs=1024,targets=512",
                        help="TASK_FEATURE_LENGTHS the truncation share is measured at")
    parser.add_argument("--max_examples", type=int, default=1000, help="examples per task counted for the lengths")
    parser.add_argument("--module", default="tasks", help="the module that registers the tasks (T5X's MIXTURE_OR_TASK_MODULE)")


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    from personalize.inspection.task_report import format_report, inspect_provider, parse_feature_lengths

    gin_config.parse_gin(gin_files, gin_bindings)
    module = importlib.import_module(args.module)
    if hasattr(module, "register_datasets"):
        gin_config.configured(module.register_datasets)()
    import seqio

    known = set(seqio.TaskRegistry.names()) | set(seqio.MixtureRegistry.names())
    if args.name not in known:
        ours = sorted(n for n in known if n.startswith("personalize_"))
        raise ValueError(f"no task or mixture named {args.name!r}; registered: {ours or 'none (set $PERSONALIZE_DATASETS or a gin file)'}")
    report = inspect_provider(name=args.name, split=args.split, num_examples=args.num_examples,
                              feature_lengths=parse_feature_lengths(args.feature_lengths), max_examples=args.max_examples)
    print(format_report(report))
    return 0
