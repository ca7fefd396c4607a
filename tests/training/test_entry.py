import json

import pytest

from personalize.training.entry import GIN_DIR, run_gin


# Includes by absolute path: under pytest, `tests/partitioning` is an importable namespace package, and gin's
# package-resource reader crashes on `include 'partitioning/...'` before it tries the gin/ search path.
GIN = f"""
from __gin__ import dynamic_registration
include '{GIN_DIR / "runs" / "finetune.gin"}'
include '{GIN_DIR / "partitioning" / "1d.gin"}'
from personalize.partitioning import partitioner
from personalize.training import evaluation
from personalize.training import finetune
import tiny_seq2seq

MODEL = @tiny_seq2seq.TinySeq2Seq()
tiny_seq2seq.TinySeq2Seq.dropout_rate = %DROPOUT_RATE
finetune.train.train_data = @tiny_seq2seq.make_batches()
tiny_seq2seq.make_batches.count = 5
finetune.train.validation_data = @tiny_seq2seq.make_batches()
finetune.train.log_period = 1
evaluation.evaluate:
  model_dir = %MODEL_DIR
  model = %MODEL
  partitioner = @partitioner.make_partitioner()
  eval_data = @tiny_seq2seq.make_batches()
  task_feature_lengths = %TASK_FEATURE_LENGTHS
"""


def test_train_then_eval_through_gin(tmp_path):
    gin_file = tmp_path / "tiny.gin"
    gin_file.write_text(GIN)
    model_dir = tmp_path / "model"
    bindings = [
        f"MODEL_DIR = '{model_dir}'",
        "MIXTURE_OR_TASK_NAME = 'unused_by_plain_batches'",
        "TASK_FEATURE_LENGTHS = {'inputs': 6, 'targets': 6}",
        "TRAIN_STEPS = 3",
        "EVAL_PERIOD = 2",
        "CHECKPOINT_PERIOD = 2",
        "NUM_PARTITIONS = 2",
        "schedules.warmup_rsqrt_decay.warmup_steps = 2",
    ]
    state = run_gin("train", [str(gin_file)], bindings)
    assert int(state.step) == 3
    config = (model_dir / "config.gin").read_text()
    assert "finetune.train.train_steps = %TRAIN_STEPS" in config and "\nTRAIN_STEPS = 3\n" in config
    assert "schedules.warmup_rsqrt_decay.warmup_steps = 2" in config
    records = [json.loads(line) for line in (model_dir / "metrics.jsonl").read_text().splitlines()]
    assert [(r["split"], r["step"]) for r in records] == [
        ("train", 1), ("train", 2), ("validation", 2), ("train", 3), ("validation", 3)
    ]
    assert records[0]["learning_rate"] == 0.0 and records[1]["learning_rate"] == pytest.approx(0.0005)
    assert sorted(p.name for p in (model_dir / "checkpoints").iterdir()) == ["2", "3"]

    metrics = run_gin("eval", [str(gin_file)], bindings)
    assert metrics["loss"] == pytest.approx(records[-1]["loss"], rel=1e-5)
    assert metrics["tokens"] == records[-1]["tokens"]
    assert "evaluation.evaluate.eval_data" in (model_dir / "eval_config.gin").read_text()
    # and TensorBoard's event reader sees the eval loss in MODEL_DIR/eval, as T5X writes it
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(str(model_dir / "eval"))
    events.Reload()
    assert [e.value for e in events.Scalars("loss")] == pytest.approx([metrics["loss"]], rel=1e-6)
    assert "finetune.train.train_data" in (model_dir / "config.gin").read_text()


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of"):
        run_gin("serve", [], [])
