import json

import jax
import numpy as np
import pytest
from tiny_seq2seq import make_batches

from personalize.models.t5.config import T5Config
from personalize.models.t5.network import Transformer
from personalize.partitioning.axis_rules import standard_logical_axis_rules
from personalize.partitioning.mesh import create_mesh
from personalize.partitioning.partitioner import Partitioner
from personalize.training.adafactor import Adafactor
from personalize.training.finetune import train
from personalize.training.inference import infer

pytestmark = pytest.mark.slow  # trains a T5 network on four faked devices

CONFIG = T5Config(
    vocab_size=16,
    emb_dim=8,
    num_heads=2,
    head_dim=4,
    mlp_dim=16,
    num_encoder_layers=1,
    num_decoder_layers=1,
    mlp_activations=("gelu", "linear"),
    dropout_rate=0.1,
    dtype="float32",
)
LENGTHS = {"inputs": 6, "targets": 6}


def _train(model_dir, *, data, model):
    partitioner = Partitioner(
        mesh=create_mesh(num_partitions=model, devices=jax.devices()[: data * model]),
        rules=standard_logical_axis_rules(),
    )
    state = train(
        model_dir=str(model_dir),
        model=Transformer(config=CONFIG),
        optimizer=Adafactor(learning_rate=0.05, min_dim_size_to_factor=4),
        partitioner=partitioner,
        train_data=make_batches(count=2),
        task_feature_lengths=LENGTHS,
        train_steps=2,
        checkpoint_period=2,
        log_period=1,
    )
    return partitioner, state


def test_t5_trains_sharded_and_decodes_from_its_checkpoint(tmp_path):
    partitioner, state = _train(tmp_path / "mesh", data=2, model=2)
    assert int(state.step) == 2
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(jax.device_get(state.params)))
    kernel = state.params["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"]
    assert kernel.sharding.spec == jax.sharding.PartitionSpec(None, "model")

    output = infer(
        model_dir=str(tmp_path / "mesh"),
        model=Transformer(config=CONFIG),
        partitioner=partitioner,
        infer_data=make_batches(count=1, batch_size=4),
        task_feature_lengths=LENGTHS,
        method="greedy",
    )
    assert output.name == "predictions-2.jsonl"
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(records) == 4
    assert all(set(r) == {"inputs", "targets", "prediction"} and len(r["prediction"]) <= 6 for r in records)
