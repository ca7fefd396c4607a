"""One of two processes (2 CPU devices each, jax.distributed on localhost) running `infer` on the tiny task.

usage: multihost_infer_run.py MODEL_DIR PROCESS_ID PORT
Writes MODEL_DIR/inference/two_processes_<mesh>-<step>.jsonl for each mesh of tiny_text_task.MESHES.
"""

import os
import sys

if __name__ == "__main__":  # before JAX starts; the test imports `run` and keeps its own eight devices
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    sys.path.insert(0, os.path.dirname(__file__))

import tiny_text_task  # noqa: E402

from personalize.models.t5.network import Transformer  # noqa: E402
from personalize.partitioning.axis_rules import standard_logical_axis_rules  # noqa: E402
from personalize.partitioning.distributed import initialize_distributed  # noqa: E402
from personalize.partitioning.mesh import create_mesh  # noqa: E402
from personalize.partitioning.partitioner import Partitioner  # noqa: E402
from personalize.training.data import SeqioBatches  # noqa: E402
from personalize.training.inference import infer  # noqa: E402

BATCH_SIZE = 4


def run(*, model_dir: str, prefix: str, devices=None) -> None:
    """Decodes the test split once per mesh; `devices`: the mesh's devices (default: all, every process's)."""
    task = tiny_text_task.register()
    for name, partitions in tiny_text_task.MESHES.items():
        partitioner = Partitioner(mesh=create_mesh(num_partitions=partitions, devices=devices),
                                  rules=standard_logical_axis_rules())
        infer(model_dir=model_dir, model=Transformer(config=tiny_text_task.CONFIG), partitioner=partitioner,
              infer_data=SeqioBatches(mixture_or_task_name=task, task_feature_lengths=tiny_text_task.LENGTHS,
                                      split="test", batch_size=BATCH_SIZE, shuffle=False, pack=False, repeat=False),
              task_feature_lengths=tiny_text_task.LENGTHS, output_name=f"{prefix}_{name}", method="beam",
              num_beams=2)


if __name__ == "__main__":
    model_dir, process_id, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    initialize_distributed(coordinator_address=f"localhost:{port}", num_processes=2, process_id=process_id)
    run(model_dir=model_dir, prefix="two_processes")
    print(f"process {process_id} done", flush=True)
