"""`personalize export-checkpoint`: a trained MODEL_DIR's params as a Hugging Face or T5X checkpoint."""

from __future__ import annotations

import argparse

HELP = ("export a trained MODEL_DIR checkpoint to Hugging Face safetensors (config.json + model.safetensors) or "
        "T5X's layout; --gin_file the model gin it was trained with (it binds MODEL_CONFIG)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model_dir", required=True, help="a trained MODEL_DIR (with checkpoints/)")
    parser.add_argument("--format", required=True, choices=["hf", "t5x"], help="the layout to write")
    parser.add_argument("--output", required=True, help="the folder to write (replaced if it exists)")
    parser.add_argument("--step", type=int, help="the checkpoint step (default: the latest)")
    parser.add_argument("--vocabulary", help="the run's spm.model: pads the vocabulary rows as the run did, and is "
                                             "copied beside the export")


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    from personalize import gin_config
    from personalize.models.t5 import checkpoint_export

    if not gin_files:
        raise ValueError("give the model gin the run was trained with, e.g. --gin_file=pretrain/model_mini.gin or "
                         "--gin_file=models/t5_1_1/small.gin --gin.DROPOUT_RATE=0.0")
    gin_config.parse_gin(list(gin_files) + ["pretrain/export.gin"], gin_bindings)
    result = gin_config.configured(checkpoint_export.export_model_dir)(
        model_dir=args.model_dir, output_dir=args.output, checkpoint_format=args.format, step=args.step,
        vocabulary_path=args.vocabulary)
    print(f"exported step {result['step']} of {args.model_dir} to {args.output} ({args.format})")
    return 0
