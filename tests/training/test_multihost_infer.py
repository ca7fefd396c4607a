"""`personalize infer` with two processes (jax.distributed on localhost, 2 CPU devices each) writes what one
process writes."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import jax
import multihost_infer_run
import pytest
import tiny_text_task

from personalize.models.t5.network import Transformer
from personalize.partitioning.axis_rules import standard_logical_axis_rules
from personalize.partitioning.mesh import create_mesh
from personalize.partitioning.partitioner import Partitioner
from personalize.training.adafactor import Adafactor
from personalize.training.data import SeqioBatches
from personalize.training.finetune import train

pytestmark = pytest.mark.slow  # two processes joined by jax.distributed, each starting JAX

SCRIPT = pathlib.Path(multihost_infer_run.__file__)
STEPS = 100  # enough for the tiny model to tell the examples apart


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def _records(path: pathlib.Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_two_process_infer_writes_the_single_process_predictions(tmp_path):
    task = tiny_text_task.register()
    train(model_dir=str(tmp_path), model=Transformer(config=tiny_text_task.CONFIG),
          optimizer=Adafactor(learning_rate=0.1, min_dim_size_to_factor=4),
          partitioner=Partitioner(mesh=create_mesh(num_partitions=1, devices=jax.devices()[:4]),
                                  rules=standard_logical_axis_rules()),
          train_data=SeqioBatches(mixture_or_task_name=task, task_feature_lengths=tiny_text_task.LENGTHS,
                                  split="train", batch_size=8, shuffle=False, pack=False),
          task_feature_lengths=tiny_text_task.LENGTHS, train_steps=STEPS, log_period=STEPS)
    multihost_infer_run.infer_in_process(model_dir=str(tmp_path), devices=jax.devices()[:4])
    gin_file = tmp_path / "infer.gin"
    gin_file.write_text(multihost_infer_run.GIN)

    port = _free_port()
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "JAX_COORDINATOR_ADDRESS": f"localhost:{port}",
           "JAX_NUM_PROCESSES": "2"}
    processes = [subprocess.Popen([sys.executable, str(SCRIPT), str(tmp_path), str(gin_file)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env={**env, "JAX_PROCESS_ID": str(index)})
                 for index in range(2)]
    outputs = []
    for process in processes:
        try:
            outputs.append(process.communicate(timeout=240)[0])
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            raise
    for index, (process, output) in enumerate(zip(processes, outputs)):
        assert process.returncode == 0, f"process {index} failed:\n{output[-4000:]}"

    inference = tmp_path / "inference"
    for name in tiny_text_task.MESHES:
        expected = _records(inference / f"one_process_{name}-{STEPS}.jsonl")
        assert [r["example_id"] for r in expected] == [f"test-{i}" for i in range(tiny_text_task.SIZES["test"])]
        assert len({r["prediction"] for r in expected}) > 2, "predictions must differ for the comparison to mean much"
        assert _records(inference / f"two_processes_{name}-{STEPS}.jsonl") == expected, name
    assert sorted(p.name for p in inference.glob("*.jsonl")) == sorted(
        f"{prefix}_{name}-{STEPS}.jsonl" for prefix in ("one_process", "two_processes") for name in tiny_text_task.MESHES
    )
