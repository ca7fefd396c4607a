"""Decoded evaluation during training (T5X's inference evaluator): the task's metrics on decoded validation
examples, logged beside the loss in metrics.jsonl and TensorBoard."""

import json

import jax
import numpy as np
import pytest
import tiny_text_task

from personalize.metrics.text_metrics import bleu, rouge
from personalize.models.t5.network import Transformer
from personalize.partitioning.axis_rules import standard_logical_axis_rules
from personalize.partitioning.mesh import create_mesh
from personalize.partitioning.partitioner import Partitioner
from personalize.training.adafactor import Adafactor
from personalize.training.data import SeqioBatches
from personalize.training.decoded_evaluation import DecodedEvaluation, decoded_evaluation
from personalize.training.finetune import train
from personalize.training.inference import infer

pytestmark = pytest.mark.slow  # trains and decodes a tiny model (~30 s on 2 cores)

STEPS = 100
DECODED = 4  # of the 6 validation examples


def _partitioner():
    return Partitioner(mesh=create_mesh(num_partitions=2, devices=jax.devices()[:4]), rules=standard_logical_axis_rules())


def _batches(split, *, batch_size):
    return SeqioBatches(mixture_or_task_name=tiny_text_task.register(), task_feature_lengths=tiny_text_task.LENGTHS,
                        split=split, batch_size=batch_size, shuffle=False, pack=False, repeat=split == "train")


def _train(model_dir, *, settings, train_steps=STEPS):
    return train(model_dir=str(model_dir), model=Transformer(config=tiny_text_task.CONFIG),
                 optimizer=Adafactor(learning_rate=0.1, min_dim_size_to_factor=4), partitioner=_partitioner(),
                 train_data=_batches("train", batch_size=8), validation_data=_batches("validation", batch_size=4),
                 task_feature_lengths=tiny_text_task.LENGTHS, train_steps=train_steps, eval_period=STEPS // 2,
                 log_period=STEPS, checkpoint_period=STEPS, decoded_evaluation=settings)


def test_validation_records_carry_the_task_metrics_of_decoded_examples(tmp_path):
    _train(tmp_path, settings=DecodedEvaluation(num_examples=DECODED, method="greedy"))
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    validation = {r["step"]: r for r in records if r["split"] == "validation"}
    assert sorted(validation) == [STEPS // 2, STEPS]
    final = validation[STEPS]
    assert {"loss", "accuracy", "bleu", "rouge1", "rouge2", "rougeL"} <= set(final)
    assert final["decoded_examples"] == DECODED

    # The same checkpoint decoded by `infer`: its first DECODED predictions give the logged metrics.
    output = infer(model_dir=str(tmp_path), model=Transformer(config=tiny_text_task.CONFIG),
                   partitioner=_partitioner(), infer_data=_batches("validation", batch_size=4),
                   task_feature_lengths=tiny_text_task.LENGTHS, output_name="validation", method="greedy")
    decoded = [json.loads(line) for line in output.read_text().splitlines()][:DECODED]
    targets, predictions = [r["target"] for r in decoded], [r["prediction"] for r in decoded]
    expected = {**bleu(targets, predictions), **rouge(targets, predictions)}
    assert expected["rouge1"] > 0, "the tiny model learned nothing: the comparison would be vacuous"
    for name, value in expected.items():
        np.testing.assert_allclose(final[name], value, rtol=1e-6, err_msg=name)

    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    (events,) = (tmp_path / "validation").glob("events.out.tfevents.*")
    logged = {(e.step, v.tag): v.simple_value
              for e in map(event_pb2.Event.FromString, tf.data.TFRecordDataset(str(events)).as_numpy_iterator())
              for v in e.summary.value}
    np.testing.assert_allclose(logged[(STEPS, "rougeL")], final["rougeL"], rtol=1e-6)


def test_off_unless_a_number_of_examples_is_set():
    assert decoded_evaluation(num_examples=None, method="beam") is None
    assert decoded_evaluation(num_examples=8, method="greedy") == DecodedEvaluation(num_examples=8, method="greedy")
    with pytest.raises(ValueError, match="method must be one of"):
        decoded_evaluation(num_examples=8, method="topk")


def test_needs_seqio_validation_data(tmp_path):
    with pytest.raises(ValueError, match="validation split of a SeqIO task"):
        train(model_dir=str(tmp_path), model=Transformer(config=tiny_text_task.CONFIG),
              optimizer=Adafactor(learning_rate=0.1), partitioner=_partitioner(),
              train_data=_batches("train", batch_size=8), task_feature_lengths=tiny_text_task.LENGTHS,
              train_steps=1, decoded_evaluation=DecodedEvaluation(num_examples=2))
