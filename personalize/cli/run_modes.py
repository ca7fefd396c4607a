"""`personalize train|eval|infer --gin_file=... --gin.X=Y`: the flags a T5X user types."""

from __future__ import annotations

import argparse
import types


def _mode(mode: str, help_text: str) -> types.SimpleNamespace:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--multiprocess", action="store_true",
                            help="initialise jax.distributed first (TPU pods, multi-host GPU; see launch/)")

    def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
        if not gin_files:
            raise ValueError(f"personalize {mode} needs --gin_file (a model gin and gin/runs/*.gin)")
        if args.multiprocess:
            from personalize.partitioning.distributed import initialize_distributed

            initialize_distributed()
        from personalize.training.entry import run_gin

        run_gin(mode, gin_files, gin_bindings)
        return 0

    return types.SimpleNamespace(HELP=help_text, add_arguments=add_arguments, run_command=run_command)


TRAIN = _mode("train", "fine-tune a T5 model on a SeqIO task or mixture (gin: a model gin + runs/finetune.gin)")
EVAL = _mode("eval", "evaluate a checkpoint on a task's split (gin: a model gin + runs/eval.gin)")
INFER = _mode("infer", "decode a task's split with a checkpoint and write predictions (gin: runs/infer.gin)")
