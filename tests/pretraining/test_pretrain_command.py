"""`personalize pretrain` on a tiny corpus: killed with SIGKILL and rerun, it continues from its last checkpoint;
it reads the training users' documents only; its checkpoint imports and its report carries the copy probe."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from flax import traverse_util

from personalize.cli.main import main
from personalize.models.t5.checkpoint_import import load_hf_t5, load_t5x
from tests.tasks import tiny_corpus

pytestmark = pytest.mark.slow  # pre-trains in a child process, kills it and resumes

STEPS = 16
MICRO_MODEL = ["--gin.config.T5Config.emb_dim=32", "--gin.config.T5Config.num_heads=2",
               "--gin.config.T5Config.head_dim=16", "--gin.config.T5Config.mlp_dim=64",
               "--gin.config.T5Config.num_encoder_layers=1", "--gin.config.T5Config.num_decoder_layers=1"]
SETTINGS = {"train_steps": STEPS, "batch_size": 8, "inputs_length": 64, "targets_length": 64,
            "warmup_steps": 4, "vocabulary_size": 300, "held_out_documents": 4, "validation_batches": 1,
            "eval_period": 1000, "checkpoint_period": 2, "log_period": 2, "probe_tokens": 16}


def _command(prepared, output):
    bindings = [f"--gin.stage.run_pretraining.{k}={v}" for k, v in SETTINGS.items()]
    return [sys.executable, "-m", "personalize.cli.main", "pretrain", "--prepared_dir", prepared,
            "--output_dir", output, "--model_size", "tiny", *MICRO_MODEL, *bindings]


def _wait_for(path, process, log, *, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert process.poll() is None, f"pretrain ended before {path} appeared:\n{open(log).read()[-3000:]}"
        assert time.monotonic() < deadline, f"{path} never appeared:\n{open(log).read()[-3000:]}"
        time.sleep(0.05)


def test_pretrain_resumes_after_kill_and_reads_training_users_only(tmp_path):
    prepared = tiny_corpus.write_prepared(str(tmp_path / "prepared"))
    output = str(tmp_path / "pretrained")
    log = str(tmp_path / "first.log")  # a file, not a pipe nobody reads, which a chatty child could fill and block on
    with open(log, "w") as sink:
        first = subprocess.Popen(_command(prepared, output), stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_for(os.path.join(output, "model", "checkpoints", "2", "commit_success.txt"), first, log, timeout=600)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    assert not os.path.exists(os.path.join(output, "report.json"))

    second = subprocess.run(_command(prepared, output), capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    logged = second.stdout + second.stderr
    resumed = [line for line in logged.splitlines() if line.startswith("resumed from checkpoint step")]
    assert resumed, logged[-3000:]
    resumed_step = int(resumed[0].split()[4])
    assert 2 <= resumed_step < STEPS
    train_steps = [r["step"] for r in map(json.loads, open(os.path.join(output, "model", "metrics.jsonl")))
                   if r["split"] == "train"]
    assert train_steps[-1] == STEPS and resumed_step + 2 in train_steps

    # Training users' documents only; the held-out ones (validation) are not trained on.
    training_users = {u for u, split in tiny_corpus.USERS.items() if split == "train"}
    documents = {}
    for objective in ("span_corruption", "denoising"):
        for split in ("train", "validation"):
            path = os.path.join(output, "examples", objective, f"{split}.jsonl")
            ids = {"/".join(json.loads(line)["example_id"].split("/")[:2]) for line in open(path)}
            documents.setdefault(split, set()).update(ids)
    assert {d.split("/")[0] for split in documents.values() for d in split} <= training_users
    assert len(documents["validation"]) == 4 and not documents["validation"] & documents["train"]
    assert len(documents["train"]) == 5 * len(training_users) - 4

    report = json.load(open(os.path.join(output, "report.json")))
    assert report["steps"] == STEPS and report["corpus"]["train_documents"] == 26
    assert set(report["copy_probe"]["scores"]) >= {"exact_match", "token_accuracy", "rougeL"}
    assert report["copy_probe"]["scores"]["examples"] == 4
    assert report["training"]["validation"], "validation loss on the held-out documents"
    config, params = load_hf_t5(path=report["checkpoint"], dtype="float32")
    assert (config.emb_dim, config.num_encoder_layers, config.vocab_size % 128) == (32, 1, 0)
    assert os.path.exists(os.path.join(report["checkpoint"], "spm.model"))
    start_gin = open(os.path.join(output, "start.gin")).read()
    assert f"initial_checkpoint = {report['checkpoint']!r}" in start_gin and "emb_dim = 32" in start_gin
    assert os.path.exists(os.path.join(output, "config.gin"))

    # `personalize export-checkpoint` writes the trained MODEL_DIR in T5X's layout: the same params as the export.
    t5x_dir = str(tmp_path / "t5x")
    assert main(["export-checkpoint", "--model_dir", os.path.join(output, "model"), "--format", "t5x",
                 "--output", t5x_dir, "--vocabulary", os.path.join(output, "spm.model"),
                 "--gin_file=pretrain/model_tiny.gin", *MICRO_MODEL]) == 0
    exported = traverse_util.flatten_dict(load_t5x(path=t5x_dir, config=config))
    for key, value in traverse_util.flatten_dict(params).items():
        np.testing.assert_array_equal(exported[key], value)
