"""Runs the tiny trainer; used by test_resume.py in a subprocess that it kills and restarts.

usage: resumable_run.py MODEL_DIR TRAIN_STEPS BLOCK_AT
BLOCK_AT >= 0: when batch BLOCK_AT is requested, print BLOCKED and hang (the test then kills the process).
"""

import os
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
sys.path.insert(0, os.path.dirname(__file__))

import jax  # noqa: E402
import numpy as np  # noqa: E402
from tiny_seq2seq import TinySeq2Seq, make_batches  # noqa: E402

from personalize.partitioning.axis_rules import standard_logical_axis_rules  # noqa: E402
from personalize.partitioning.mesh import create_mesh  # noqa: E402
from personalize.partitioning.partitioner import Partitioner  # noqa: E402
from personalize.training.adafactor import Adafactor  # noqa: E402
from personalize.training.finetune import train  # noqa: E402

BATCHES = 12


def batches(block_at: int):
    for index, batch in enumerate(make_batches(count=BATCHES)):
        if index == block_at:
            print("BLOCKED", flush=True)
            time.sleep(600)
        yield batch


def run(*, model_dir: str, train_steps: int, block_at: int) -> dict:
    partitioner = Partitioner(
        mesh=create_mesh(num_partitions=2, devices=jax.devices()[:4]), rules=standard_logical_axis_rules()
    )
    state = train(
        model_dir=model_dir,
        model=TinySeq2Seq(),
        optimizer=Adafactor(learning_rate=0.05, min_dim_size_to_factor=4),
        partitioner=partitioner,
        train_data=batches(block_at),
        task_feature_lengths={"inputs": 6, "targets": 6},
        train_steps=train_steps,
        checkpoint_period=2,
        keep_checkpoints=2,
        log_period=1,
    )
    return {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in jax.tree_util.tree_leaves_with_path(state.params)}


if __name__ == "__main__":
    model_dir, train_steps, block_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    params = run(model_dir=model_dir, train_steps=train_steps, block_at=block_at)
    np.savez(os.path.join(model_dir, "final_params.npz"), **params)
