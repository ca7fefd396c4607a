"""launch/gpu_cluster.sh: per-host commands of a dry run, executed here against a stand-in `personalize` to check the
JAX_* variables each process gets (the names personalize/partitioning/distributed.py reads)."""

import json
import os
import subprocess

import pytest

from launch_helpers import printed_commands, run_script, tool_dir
from personalize.partitioning import distributed

COMMON = ["--model_dir", "/shared/runs/xxl", "--gin_file", "runs/finetune.gin", "--gin.TRAIN_STEPS=7"]
FAKE_PERSONALIZE = """#!/usr/bin/env python3
import json, os, sys
names = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID", "TF_CPP_MIN_LOG_LEVEL", "EXTRA")
print(json.dumps({"env": {n: os.environ.get(n) for n in names}, "argv": sys.argv[1:], "cwd": os.getcwd()}))
"""


@pytest.fixture
def workdir(tmp_path):
    """A checkout stand-in whose `.venv/bin/personalize` reports its environment and arguments."""
    root = tmp_path / "checkout"
    (root / ".venv" / "bin").mkdir(parents=True)
    binary = root / ".venv" / "bin" / "personalize"
    binary.write_text(FAKE_PERSONALIZE)
    binary.chmod(0o755)
    return root


def test_the_variables_are_the_ones_distributed_py_reads():
    assert (distributed.COORDINATOR_ADDRESS_ENV, distributed.NUM_PROCESSES_ENV, distributed.PROCESS_ID_ENV) == (
        "JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def test_ssh_dry_run_gives_each_host_its_process_id(workdir):
    result = run_script("gpu_cluster.sh", "--mode", "ssh", "--hosts", "user@gpu-a,gpu-b,gpu-c", "--workdir",
                        str(workdir), "--port", "2222", "--env", "EXTRA=x y", *COMMON, "--dry-run")
    commands = printed_commands(result)
    assert [c[:4] for c in commands] == [["ssh", "-o", "BatchMode=yes", h] for h in ("user@gpu-a", "gpu-b", "gpu-c")]
    for index, command in enumerate(commands):
        assert len(command) == 5
        ran = json.loads(subprocess.run(["bash", "-c", command[4]], capture_output=True, text=True, check=True).stdout)
        assert ran["cwd"] == str(workdir)
        assert ran["env"] == {"JAX_COORDINATOR_ADDRESS": "gpu-a:2222", "JAX_NUM_PROCESSES": "3",
                              "JAX_PROCESS_ID": str(index), "TF_CPP_MIN_LOG_LEVEL": "2", "EXTRA": "x y"}
        assert ran["argv"] == ["train", "--gin_file=runs/finetune.gin", '--gin.MODEL_DIR="/shared/runs/xxl"',
                               "--gin.TRAIN_STEPS=7"]


def test_ssh_hostfile_and_coordinator(tmp_path):
    hostfile = tmp_path / "hosts"
    hostfile.write_text("# the cluster\nnode1\n\nnode2  # second\n")
    commands = printed_commands(run_script("gpu_cluster.sh", "--mode", "ssh", "--hostfile", str(hostfile),
                                           "--coordinator", "10.0.0.1", *COMMON, "--dry-run"))
    assert [c[3] for c in commands] == ["node1", "node2"]
    assert all("JAX_COORDINATOR_ADDRESS=10.0.0.1:12345 JAX_NUM_PROCESSES=2" in c[4] for c in commands)


def test_slurm_dry_run_computes_the_variables_from_slurm(tmp_path, workdir):
    result = run_script("gpu_cluster.sh", "--mode", "slurm", "--nodes", "4", "--gpus_per_node", "8",
                        "--partition", "a100", "--time", "12:00:00", "--srun_arg=--exclusive", "--workdir",
                        str(workdir), *COMMON, "--dry-run")
    (command,) = printed_commands(result)
    assert command[:8] == ["srun", "--nodes=4", "--ntasks-per-node=1", "--gpus-per-node=8", "--partition=a100",
                           "--time=12:00:00", "--exclusive", "bash"]
    assert command[8] == "-c"
    bin_dir = tmp_path / "slurm-bin"
    bin_dir.mkdir()
    scontrol = bin_dir / "scontrol"
    scontrol.write_text('#!/bin/sh\n[ "$1 $2 $3" = "show hostnames gpu[07-10]" ] && printf "gpu07\\ngpu08\\n"\n')
    scontrol.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_JOB_NODELIST": "gpu[07-10]",
           "SLURM_NTASKS": "4", "SLURM_PROCID": "2"}
    ran = json.loads(subprocess.run(["bash", "-c", command[9]], capture_output=True, text=True, env=env,
                                    check=True).stdout)
    assert ran["env"]["JAX_COORDINATOR_ADDRESS"] == "gpu07:12345"
    assert (ran["env"]["JAX_NUM_PROCESSES"], ran["env"]["JAX_PROCESS_ID"]) == ("4", "2")
    assert ran["argv"][:2] == ["train", "--gin_file=runs/finetune.gin"]


def test_ssh_mode_runs_every_host_and_fails_when_one_fails(tmp_path):
    fake_ssh = tmp_path / "bin" / "ssh"
    fake_ssh.parent.mkdir()
    fake_ssh.write_text('#!/bin/sh\n[ "$3" = bad ] && { echo refused; exit 5; }\necho "started on $3"\n')
    fake_ssh.chmod(0o755)
    env = {"PATH": f"{fake_ssh.parent}:{os.environ['PATH']}"}
    good = run_script("gpu_cluster.sh", "--mode", "ssh", "--hosts", "h1,h2", *COMMON, env=env)
    assert good.returncode == 0
    assert sorted(good.stdout.splitlines()) == ["[h1] started on h1", "[h2] started on h2"]
    bad = run_script("gpu_cluster.sh", "--mode", "ssh", "--hosts", "bad", *COMMON, env=env)
    assert bad.returncode == 1 and "a host failed" in bad.stderr


@pytest.mark.parametrize("args, message", [
    (COMMON + ["--dry-run"], "missing required flag --mode"),
    (["--mode", "ssh", "--hosts", "a"] + COMMON[2:] + ["--dry-run"], "missing required flag --model_dir"),
    (["--mode", "ssh", "--hosts", "a"] + COMMON[:2] + ["--dry-run"], "missing required flag --gin_file"),
    (["--mode", "slurm"] + COMMON + ["--dry-run"], "missing required flag --nodes"),
    (["--mode", "ssh"] + COMMON + ["--dry-run"], "missing required flag --hosts or --hostfile"),
    (["--mode", "ssh", "--hosts", "a", "--nodes", "2"] + COMMON + ["--dry-run"], "are for --mode slurm"),
    (["--mode", "slurm", "--nodes", "2", "--hosts", "a"] + COMMON + ["--dry-run"], "are for --mode ssh"),
    (["--mode", "mpi"] + COMMON + ["--dry-run"], "--mode must be slurm or ssh"),
    (["--mode", "slurm", "--nodes", "zero"] + COMMON + ["--dry-run"], "--nodes must be a positive number"),
])
def test_bad_input_is_refused(args, message):
    result = run_script("gpu_cluster.sh", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr


def test_without_dry_run_srun_must_exist(tmp_path):
    path = tool_dir(tmp_path / "bin", ["bash", "dirname", "realpath"])
    result = run_script("gpu_cluster.sh", "--mode", "slurm", "--nodes", "2", *COMMON, env={"PATH": path})
    assert result.returncode == 2 and "srun not found" in result.stderr
