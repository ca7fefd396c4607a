"""`personalize infer --multiprocess` as one of two processes (2 CPU devices each, jax.distributed on localhost).

usage: multihost_infer_run.py MODEL_DIR GIN_FILE  (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID set)
Runs the command once per mesh of tiny_text_task.MESHES, writing
MODEL_DIR/inference/two_processes_<mesh>-<step>.jsonl; a process joins the group once, so only the first command
passes --multiprocess.
"""

import os
import sys

if __name__ == "__main__":  # before JAX starts; the test imports this module and keeps its own eight devices
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    sys.path.insert(0, os.path.dirname(__file__))

import tiny_text_task  # noqa: E402

from personalize.cli.main import main  # noqa: E402
from personalize.models.t5.network import Transformer  # noqa: E402
from personalize.partitioning.axis_rules import standard_logical_axis_rules  # noqa: E402
from personalize.partitioning.mesh import create_mesh  # noqa: E402
from personalize.partitioning.partitioner import Partitioner  # noqa: E402
from personalize.training.data import SeqioBatches  # noqa: E402
from personalize.training.entry import GIN_DIR  # noqa: E402
from personalize.training.inference import infer  # noqa: E402

BATCH_SIZE = 4
NUM_BEAMS = 2

# The run gin and the tiny model and task; includes by absolute path, as tests/training/test_entry.py explains.
GIN = f"""
from __gin__ import dynamic_registration
include '{GIN_DIR / "runs" / "infer.gin"}'
include '{GIN_DIR / "partitioning" / "1d.gin"}'
from personalize.models.t5 import network
from personalize.training import inference
import tiny_text_task

MODEL = @network.Transformer()
network.Transformer.config = @tiny_text_task.config()
MIXTURE_OR_TASK_NAME = @tiny_text_task.register()
TASK_FEATURE_LENGTHS = {tiny_text_task.LENGTHS}
BATCH_SIZE = {BATCH_SIZE}
inference.infer.num_beams = {NUM_BEAMS}
"""


def infer_in_process(*, model_dir: str, devices) -> None:
    """The reference: `infer` on `devices` of this one process, once per mesh (one_process_<mesh>-<step>.jsonl)."""
    task = tiny_text_task.register()
    for name, partitions in tiny_text_task.MESHES.items():
        infer(model_dir=model_dir, model=Transformer(config=tiny_text_task.CONFIG),
              partitioner=Partitioner(mesh=create_mesh(num_partitions=partitions, devices=devices),
                                      rules=standard_logical_axis_rules()),
              infer_data=SeqioBatches(mixture_or_task_name=task, task_feature_lengths=tiny_text_task.LENGTHS,
                                      split="test", batch_size=BATCH_SIZE, shuffle=False, pack=False, repeat=False),
              task_feature_lengths=tiny_text_task.LENGTHS, output_name=f"one_process_{name}", method="beam",
              num_beams=NUM_BEAMS)


if __name__ == "__main__":
    model_dir, gin_file = sys.argv[1], sys.argv[2]
    for index, (name, partitions) in enumerate(tiny_text_task.MESHES.items()):
        code = main(["infer", *(["--multiprocess"] if index == 0 else []), f"--gin_file={gin_file}",
                     f"--gin.MODEL_DIR='{model_dir}'", "--gin.INFER_SPLIT='test'", f"--gin.NUM_PARTITIONS={partitions}",
                     f"--gin.inference.infer.output_name='two_processes_{name}'"])
        if code:
            sys.exit(code)
    print(f"process {os.environ['JAX_PROCESS_ID']} done", flush=True)
