"""launch/tpu_pod.sh: the gcloud commands of a dry run, and its input checks."""

import shlex

import pytest

from launch_helpers import REPO, printed_commands, run_script, tool_dir

BASE = ["--tpu", "pod-1", "--topology", "v4-8", "--zone", "us-central2-b", "--project", "proj", "--model_dir", "gs://bucket/xxl",
        "--gin_file", "runs/finetune.gin", "--gin_file", "partitioning/1d.gin"]
WHERE = ["--zone=us-central2-b", "--project=proj", "--worker=all"]


def test_dry_run_prints_pack_copy_install_and_train(tmp_path):
    result = run_script("tpu_pod.sh", *BASE, "--gin.TRAIN_STEPS=1000", "--gin.MIXTURE_OR_TASK_NAME='a b'",
                        "--env", "LIBTPU_INIT_ARGS=--xla_x=1", "--dry-run", env={"TMPDIR": str(tmp_path)})
    check, pack, copy, install, train = printed_commands(result)
    assert check[1:] == ["compile", "--topology=v4-8", "--gin_file=runs/finetune.gin", "--gin_file=partitioning/1d.gin",
                         "--gin.TRAIN_STEPS=1000", "--gin.MIXTURE_OR_TASK_NAME='a b'"]
    assert check[0] == str(REPO / ".venv/bin/personalize")
    tarball = f"{tmp_path}/personalize-pod-1.tar.gz"
    assert pack[:3] == ["git", "-C", str(REPO)] and f"--file={tarball}" in pack
    assert copy == ["gcloud", "compute", "tpus", "tpu-vm", "scp", tarball, "pod-1:personalize.tar.gz", *WHERE]
    assert install[:6] == ["gcloud", "compute", "tpus", "tpu-vm", "ssh", "pod-1"] and install[6:9] == WHERE
    script = install[9].removeprefix("--command=")
    assert "tar -xzf ~/personalize.tar.gz -C ~/personalize" in script
    assert "~/personalize-venv/bin/pip install --quiet -e ~/personalize 'jax[tpu]==0.10.2'" in script
    assert train[:9] == install[:9]
    remote = train[9].removeprefix("--command=")
    prefix = "cd ~/personalize && env TF_CPP_MIN_LOG_LEVEL=2 LIBTPU_INIT_ARGS=--xla_x=1 ~/personalize-venv/bin/personalize "
    assert remote.startswith(prefix)
    assert shlex.split(remote[len(prefix):]) == [
        "train", "--gin_file=runs/finetune.gin", "--gin_file=partitioning/1d.gin", '--gin.MODEL_DIR="gs://bucket/xxl"',
        "--gin.TRAIN_STEPS=1000", "--gin.MIXTURE_OR_TASK_NAME='a b'"]
    assert not (tmp_path / "personalize-pod-1.tar.gz").exists()


def test_git_install_and_detach():
    result = run_script("tpu_pod.sh", *BASE, "--git_url", "https://example.org/p.git", "--git_ref", "v1",
                        "--detach", "--dry-run")
    _, install, train = printed_commands(result)
    script = install[9].removeprefix("--command=")
    assert "git clone --quiet https://example.org/p.git ~/personalize && git -C ~/personalize checkout --quiet v1" in script
    remote = train[9].removeprefix("--command=")
    assert remote.startswith("nohup bash -c ") and remote.endswith("> ~/personalize-train.log 2>&1 < /dev/null &")
    inner = shlex.split(remote)[3]
    assert inner.startswith("cd ~/personalize && env TF_CPP_MIN_LOG_LEVEL=2 ~/personalize-venv/bin/personalize train ")


def test_skip_install_prints_only_the_training_command():
    commands = printed_commands(run_script("tpu_pod.sh", *BASE, "--skip_install", "--dry-run"))
    assert len(commands) == 2 and commands[0][1] == "compile" and commands[1][4] == "ssh"


def test_a_gin_file_given_by_path_is_made_repository_relative():
    args = [a if a != "partitioning/1d.gin" else str(REPO / "gin/partitioning/1d.gin") for a in BASE]
    check, train = printed_commands(run_script("tpu_pod.sh", *args, "--skip_install", "--dry-run"))
    assert "--gin_file=gin/partitioning/1d.gin" in check
    assert "--gin_file=gin/partitioning/1d.gin" in shlex.split(train[9].removeprefix("--command="))


@pytest.mark.parametrize("flag", ["--tpu", "--topology", "--zone", "--project", "--model_dir"])
def test_a_missing_required_flag_is_named(flag):
    index = BASE.index(flag)
    result = run_script("tpu_pod.sh", *BASE[:index], *BASE[index + 2:], "--dry-run")
    assert result.returncode == 2 and result.stdout == ""
    assert f"tpu_pod.sh: missing required flag {flag}" in result.stderr


@pytest.mark.parametrize("args, message", [
    (BASE[:10] + ["--dry-run"], "missing required flag --gin_file"),
    ([a.replace("gs://bucket/xxl", "/local/dir") for a in BASE] + ["--dry-run"], "--model_dir must be a gs:// path"),
    (BASE + ["--gin_file", "no/such.gin", "--dry-run"], "gin file no/such.gin not found"),
    (BASE + ["--gin.MODEL_DIR='x'", "--dry-run"], "give the model directory as --model_dir"),
    (BASE + ["--gin.TRAIN_STEPS", "--dry-run"], "must look like --gin.NAME=VALUE"),
    (BASE + ["--git_ref", "v1", "--dry-run"], "--git_ref needs --git_url"),
    (BASE + ["--tpu"], "--tpu needs a value"),
    (BASE + ["--bogus"], "unknown argument --bogus"),
])
def test_bad_input_is_refused_before_anything_runs(args, message):
    result = run_script("tpu_pod.sh", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr


def test_a_gin_file_outside_the_repository_is_refused(tmp_path):
    outside = tmp_path / "mine.gin"
    outside.write_text("X = 1\n")
    result = run_script("tpu_pod.sh", *BASE, "--gin_file", str(outside), "--dry-run")
    assert result.returncode == 2 and "is outside the repository" in result.stderr


def test_without_dry_run_gcloud_must_be_installed(tmp_path):
    path = tool_dir(tmp_path / "bin", ["bash", "dirname", "realpath", "sed", "head"])
    result = run_script("tpu_pod.sh", *BASE, env={"PATH": path})
    assert result.returncode == 2 and "gcloud not found" in result.stderr


def fake_tools(tmp_path, *, compile_exit):
    """A `personalize` that exits `compile_exit` and a `gcloud` that records being called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    personalize = bin_dir / "personalize"
    personalize.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/compile-args\nexit {compile_exit}\n")
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path}/gcloud-calls\n")
    for tool in (personalize, gcloud):
        tool.chmod(0o755)
    return {"PERSONALIZE": str(personalize), "PATH": f"{bin_dir}:/usr/bin:/bin", "TMPDIR": str(tmp_path)}


def test_a_job_that_does_not_fit_stops_before_anything_is_sent_to_the_pod(tmp_path):
    result = run_script("tpu_pod.sh", *BASE, env=fake_tools(tmp_path, compile_exit=1))
    assert result.returncode != 0
    assert "does not fit on v4-8" in result.stderr and "nothing was sent to the pod" in result.stderr
    assert (tmp_path / "compile-args").read_text().startswith("compile --topology=v4-8 --gin_file=runs/finetune.gin")
    assert not (tmp_path / "gcloud-calls").exists()


def test_a_job_that_fits_goes_on_to_the_pod(tmp_path):
    result = run_script("tpu_pod.sh", *BASE, "--skip_install", env=fake_tools(tmp_path, compile_exit=0))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "gcloud-calls").read_text().startswith("compute tpus tpu-vm ssh pod-1")


def test_skip_compile_check_needs_no_topology_and_compiles_nothing(tmp_path):
    args = [a for a in BASE if a not in ("--topology", "v4-8")]
    commands = printed_commands(run_script("tpu_pod.sh", *args, "--skip_compile_check", "--skip_install", "--dry-run"))
    assert len(commands) == 1 and commands[0][4] == "ssh"
