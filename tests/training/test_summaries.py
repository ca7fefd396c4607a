"""TensorBoard summaries of a training run: scalars per split, as metrics.jsonl has them, and the gin config."""

import json

import gin
import jax
import numpy as np
import pytest
from tiny_seq2seq import TinySeq2Seq, make_batches

from personalize.partitioning.axis_rules import standard_logical_axis_rules
from personalize.partitioning.mesh import create_mesh
from personalize.partitioning.partitioner import Partitioner
from personalize.training import adafactor
from personalize.training.finetune import train


TRAIN_SCALARS = {"loss", "accuracy", "learning_rate", "tokens_per_second", "examples_per_second"}
VALIDATION_SCALARS = {"loss", "accuracy", "cross_entropy"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """Four steps, logged and evaluated every two; the optimizer comes from gin, so a config is operative."""
    model_dir = tmp_path_factory.mktemp("run")
    gin.clear_config()
    gin.parse_config("\n".join([
        "from __gin__ import dynamic_registration",
        "from personalize.training import adafactor",
        "adafactor.Adafactor.learning_rate = 0.05",
        "adafactor.Adafactor.min_dim_size_to_factor = 4",
    ]))
    try:
        train(
            model_dir=str(model_dir),
            model=TinySeq2Seq(),
            optimizer=gin.get_configurable(adafactor.Adafactor)(),
            partitioner=Partitioner(mesh=create_mesh(num_partitions=2, devices=jax.devices()[:4]),
                                    rules=standard_logical_axis_rules()),
            train_data=make_batches(count=4),
            validation_data=make_batches(count=2, seed=1),
            task_feature_lengths={"inputs": 6, "targets": 6},
            train_steps=4,
            log_period=2,
            eval_period=2,
            checkpoint_period=4,
        )
    finally:
        gin.clear_config()
    return model_dir


def _jsonl(model_dir, split):
    records = [json.loads(line) for line in (model_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r for r in records if r["split"] == split}


def _events(folder):
    """(step, tag) -> value of every scalar, and tag -> texts, read back with TensorFlow's record reader."""
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    files = sorted(folder.glob("events.out.tfevents.*"))
    assert len(files) == 1, files
    scalars, texts = {}, {}
    for record in tf.data.TFRecordDataset(str(files[0])).as_numpy_iterator():
        event = event_pb2.Event.FromString(record)
        for value in event.summary.value:
            if value.HasField("simple_value"):
                scalars[(event.step, value.tag)] = value.simple_value
            else:
                assert value.metadata.plugin_data.plugin_name == "text"
                texts.setdefault(value.tag, []).extend(s.decode("utf-8") for s in value.tensor.string_val)
    return scalars, texts


@pytest.mark.parametrize("split,names", [("train", TRAIN_SCALARS), ("validation", VALIDATION_SCALARS)])
def test_scalars_match_the_metrics_log(run_dir, split, names):
    logged = _jsonl(run_dir, split)
    assert sorted(logged) == [2, 4]
    scalars, _ = _events(run_dir / split)
    for step, record in logged.items():
        for name in names:
            np.testing.assert_allclose(scalars[(step, name)], record[name], rtol=1e-6, err_msg=f"{split} {name} {step}")
    assert {tag for _, tag in scalars} == {k for k in logged[2] if k not in ("step", "split")}


def test_the_operative_gin_config_is_a_text_summary(run_dir):
    _, texts = _events(run_dir / "train")
    assert list(texts) == ["config"]
    assert "learning_rate = 0.05" in texts["config"][0]


def test_tensorboards_event_reader_loads_the_scalars(run_dir):
    from tensorboard.backend.event_processing import event_accumulator  # the test extra pins tensorboard

    for split, names in (("train", TRAIN_SCALARS), ("validation", VALIDATION_SCALARS)):
        accumulator = event_accumulator.EventAccumulator(str(run_dir / split))
        accumulator.Reload()
        assert names <= set(accumulator.Tags()["scalars"])
        logged = _jsonl(run_dir, split)
        assert [(e.step, pytest.approx(e.value, rel=1e-6)) for e in accumulator.Scalars("loss")] == [
            (step, logged[step]["loss"]) for step in (2, 4)]
    train_events = event_accumulator.EventAccumulator(str(run_dir / "train"))
    train_events.Reload()
    assert "config" in train_events.Tags()["tensors"]
