"""Training until validation converges: the best validation step is kept and chosen, training stops after
`patience` evaluations without improvement, and a rerun of a stopped run trains no further."""

import json
import os
import sys

import jax
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from tiny_seq2seq import TinySeq2Seq, make_batches  # noqa: E402

from personalize.partitioning.axis_rules import standard_logical_axis_rules  # noqa: E402
from personalize.partitioning.mesh import create_mesh  # noqa: E402
from personalize.partitioning.partitioner import Partitioner  # noqa: E402
from personalize.training import finetune  # noqa: E402
from personalize.training.adafactor import Adafactor  # noqa: E402
from personalize.training.early_stopping import EarlyStopping, read_best_record, restore_best_params  # noqa: E402
from personalize.training.evaluation import abstract_params  # noqa: E402

LENGTHS = {"inputs": 6, "targets": 6}
# validation loss at steps 2, 4, 6, ...: best at step 4, then three evaluations without improvement
SCRIPTED_LOSSES = [3.0, 2.0, 2.5, 2.0, 2.7, 1.0, 0.5]


@pytest.fixture
def scripted_validation(monkeypatch):
    """Validation losses from SCRIPTED_LOSSES, and the params each evaluation saw."""
    seen = []

    def evaluate_batches(*, eval_step, params, batches, to_global):
        seen.append(jax.tree_util.tree_map(np.asarray, jax.device_get(params)))
        return {"loss": SCRIPTED_LOSSES[len(seen) - 1], "accuracy": 0.0}

    monkeypatch.setattr(finetune, "evaluate_batches", evaluate_batches)
    return seen


def _partitioner() -> Partitioner:
    return Partitioner(mesh=create_mesh(num_partitions=1, devices=jax.devices()[:2]),
                       rules=standard_logical_axis_rules())


def _train(model_dir, *, patience=3, train_steps=20):
    return finetune.train(
        model_dir=str(model_dir), model=TinySeq2Seq(dropout_rate=0.0),
        optimizer=Adafactor(learning_rate=0.05, min_dim_size_to_factor=4), partitioner=_partitioner(),
        train_data=make_batches(count=40), validation_data=make_batches(count=1, seed=1), eval_period=2,
        task_feature_lengths=LENGTHS, train_steps=train_steps, checkpoint_period=2, keep_checkpoints=1, log_period=1,
        early_stopping=EarlyStopping(patience=patience))


def _train_steps_logged(model_dir) -> list[int]:
    with open(os.path.join(model_dir, finetune.METRICS_FILE)) as handle:
        return [r["step"] for r in map(json.loads, handle) if r["split"] == "train"]


def test_stops_after_patience_evaluations_and_keeps_the_best_step(tmp_path, scripted_validation):
    state = _train(tmp_path)
    # evaluations at 2 (3.0), 4 (2.0, best), 6 (2.5), 8 (2.0: not better), 10 (2.7): the third without improvement
    assert int(state.step) == 10
    assert len(scripted_validation) == 5
    record = read_best_record(tmp_path)
    assert (record["best_step"], record["best_value"], record["stopped_at"]) == (4, 2.0, 10)
    abstract, _ = abstract_params(model=TinySeq2Seq(dropout_rate=0.0), task_feature_lengths=LENGTHS,
                                  partitioner=_partitioner())
    params, step = restore_best_params(model_dir=tmp_path, abstract_params=abstract)
    assert step == 4
    chex_equal = jax.tree_util.tree_map(lambda a, b: np.array_equal(np.asarray(a), b), params, scripted_validation[1])
    assert all(jax.tree_util.tree_leaves(chex_equal)), "the best checkpoint holds the params evaluated at step 4"


def test_a_rerun_of_a_stopped_run_trains_no_further(tmp_path, scripted_validation):
    _train(tmp_path)
    logged = _train_steps_logged(tmp_path)
    state = _train(tmp_path)
    assert int(state.step) == 10
    assert _train_steps_logged(tmp_path) == logged
    assert len(scripted_validation) == 5


def test_improvement_within_patience_keeps_training_to_the_limit(tmp_path, scripted_validation):
    state = _train(tmp_path, patience=4, train_steps=12)
    # with patience 4 the 1.0 at step 12 arrives in time: no stop, and the limit's step is the best
    assert int(state.step) == 12
    record = read_best_record(tmp_path)
    assert (record["best_step"], record["stopped_at"]) == (12, None)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="lowest")
