"""`personalize compile`: a tiny T5 compiled for a v5e-4 slice (2x2) on the CPU host; skipped without libtpu."""

import json
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("libtpu")

pytestmark = pytest.mark.slow  # compiles a T5 for a TPU slice in child processes

REPO = pathlib.Path(__file__).resolve().parents[2]
TINY = {"emb_dim": 64, "num_heads": 4, "head_dim": 16, "mlp_dim": 128, "layers": 2, "vocab": 32128}


BASE = ["compile", "--topology=v5e-4", "--gin_file=models/t5_1_1/tiny.gin", "--gin_file=runs/finetune.gin",
        "--gin_file=partitioning/1d.gin", "--gin.NUM_PARTITIONS=2",
        "--gin.TASK_FEATURE_LENGTHS={'inputs': 32, 'targets': 16}", "--gin.BATCH_SIZE=8"]


def run_compile(*args, directory):
    """The command line as a user runs it, in its own process (libtpu starts up inside it), from `directory`: the
    repository root holds an ignored `runs/` folder that Python would take for a package when gin resolves
    `include 'runs/...'`."""
    return subprocess.run([sys.executable, "-m", "personalize.cli.main", *BASE, *args], cwd=directory,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """2 microbatches, and beam-search decoding compiled too."""
    directory = tmp_path_factory.mktemp("compile")
    result = run_compile("--gin.finetune.train.num_microbatches=2", "--decode", "--output_json=report.json",
                         directory=directory)
    output = directory / "report.json"
    return result, json.loads(output.read_text()) if output.exists() else None


def analytic_parameter_bytes_per_device(*, model_shards: int) -> int:
    """T5 1.1 tiny by hand: everything but the RMS-norm scales has a `vocab`, `heads` or `mlp` axis, which 1-D
    partitioning splits over the model axis; the scales (one `embed` vector each) are on every device."""
    e, h, d, f, n, v = (TINY[k] for k in ("emb_dim", "num_heads", "head_dim", "mlp_dim", "layers", "vocab"))
    embeddings = 2 * v * e  # token embedding + untied logits kernel
    encoder_layer = 4 * e * h * d + 3 * e * f  # q, k, v, o; gated-GELU wi_0, wi_1, wo
    decoder_layer = 8 * e * h * d + 3 * e * f  # self- and cross-attention
    relpos = 2 * 32 * h
    sharded = embeddings + n * (encoder_layer + decoder_layer) + relpos
    scales = (2 * n + 3 * n + 2) * e
    return sharded * 4 // model_shards + scales * 4


def test_a_tiny_model_compiles_for_a_small_slice_and_reports_its_memory_and_projection(tiny_run):
    result, report = tiny_run
    assert result.returncode == 0, result.stderr
    assert report["mesh"] == {"data": 2, "model": 2}
    assert report["fits"] is True and 0 < report["per_device_bytes"] < report["hbm_bytes"] == 16 * 2**30
    assert report["memory"]["arguments"] >= report["parameter_bytes_per_device"]
    # XLA counts the microbatch loop's body once; the report multiplies it by the loop's trip count.
    assert report["xla_loop_multiplier"] == 2
    assert report["xla_flops_per_step"] >= 0.9 * report["analytic_flops"]["weights"]
    assert report["projected_step_seconds"] > 0 and 0 < report["projected_mfu"] <= 1
    assert report["decode"]["fits"] is True and 0 < report["decode"]["per_device_bytes"] < report["hbm_bytes"]
    assert "train step on v5e-4 (v5e:2x2, 4 x TPU v5e)" in result.stdout and ": fits" in result.stdout
    assert "TPU_ACCELERATOR_TYPE" not in result.stderr and "TPU_WORKER_HOSTNAMES" not in result.stderr


def test_parameter_bytes_per_device_are_the_analytic_count_times_four_over_the_model_shards(tiny_run):
    _, report = tiny_run
    assert report["parameter_bytes_per_device"] == analytic_parameter_bytes_per_device(model_shards=2)


def test_a_configuration_too_big_for_its_chip_reports_it_and_exits_non_zero(tmp_path):
    # 2,048 sequences of 512 targets: the float32 logits alone are 2048 x 512 x 32128 x 4 / 2 data shards = 67 GB.
    result = run_compile("--gin.BATCH_SIZE=2048", "--gin.TASK_FEATURE_LENGTHS={'inputs': 32, 'targets': 512}",
                         "--output_json=report.json", directory=tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    assert result.returncode == 1, result.stderr
    assert report["fits"] is False and report["per_device_bytes"] > report["hbm_bytes"]
    assert "DOES NOT FIT" in result.stdout
