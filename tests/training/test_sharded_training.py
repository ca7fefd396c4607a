import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec
from tiny_seq2seq import TinySeq2Seq, make_batches

from personalize.partitioning.axis_rules import standard_logical_axis_rules
from personalize.partitioning.mesh import create_mesh
from personalize.partitioning.shardings import global_batch
from personalize.training import checkpoints
from personalize.training.adafactor import Adafactor
from personalize.training.finetune import model_input_shapes
from personalize.training.state import initialize_state, state_shardings
from personalize.training.steps import compile_train_step

pytestmark = pytest.mark.slow  # compiles and runs train steps on several meshes (~30 s)

SHAPES = model_input_shapes(task_feature_lengths={"inputs": 6, "targets": 6}, batch_size=2)
OPTIMIZER = Adafactor(learning_rate=0.05, min_dim_size_to_factor=4)


def _setup(*, data, model, parameter_dims=1, dropout_rate=0.1):
    mesh = create_mesh(num_partitions=model, devices=jax.devices()[: data * model])
    rules = standard_logical_axis_rules(parameter_partitioning_dims=parameter_dims)
    network = TinySeq2Seq(dropout_rate=dropout_rate)
    shardings, abstract = state_shardings(
        model=network, optimizer=OPTIMIZER, input_shapes=SHAPES, mesh=mesh, rules=rules
    )
    return mesh, rules, network, shardings, abstract


def _train(*, data, model, parameter_dims=1, num_microbatches=1, dropout_rate=0.1, steps=3):
    mesh, rules, network, shardings, _ = _setup(
        data=data, model=model, parameter_dims=parameter_dims, dropout_rate=dropout_rate
    )
    state = initialize_state(
        model=network,
        optimizer=OPTIMIZER,
        input_shapes=SHAPES,
        rng=jax.random.key(1),
        shardings=shardings,
        mesh=mesh,
        rules=rules,
    )
    step = compile_train_step(
        model=network,
        optimizer=OPTIMIZER,
        shardings=shardings,
        mesh=mesh,
        rules=rules,
        z_loss=1e-4,
        loss_normalizing_factor=None,
        num_microbatches=num_microbatches,
    )
    metrics = []
    for batch in make_batches(count=steps):
        state, m = step(state, global_batch(local_batch=batch, mesh=mesh, rules=rules), jax.random.key(7))
        metrics.append({name: float(value) for name, value in jax.device_get(m).items()})
    return state, metrics


def _assert_same_params(got, want):
    flat_want = jax.tree_util.tree_leaves_with_path(jax.device_get(want))
    flat_got = jax.tree.leaves(jax.device_get(got))
    for (path, expected), actual in zip(flat_want, flat_got, strict=True):
        np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=2e-6, err_msg=jax.tree_util.keystr(path))


@pytest.fixture(scope="module")
def single_device_run():
    return _train(data=1, model=1)


@pytest.mark.parametrize("data, model, parameter_dims", [(2, 2, 1), (4, 2, 2)])
def test_sharded_training_matches_one_device(single_device_run, data, model, parameter_dims):
    reference, reference_metrics = single_device_run
    state, metrics = _train(data=data, model=model, parameter_dims=parameter_dims)
    _assert_same_params(state.params, reference.params)
    assert [m["loss"] for m in metrics] == pytest.approx([m["loss"] for m in reference_metrics], rel=1e-5)
    assert int(state.step) == 3 and int(state.opt_state.count) == 3
    wi = state.params["wi"]["kernel"]
    expected = PartitionSpec("data", "model") if parameter_dims == 2 else PartitionSpec(None, "model")
    assert wi.sharding.spec == expected
    # The factored statistics follow their parameter: v_col of wi [embed, mlp] keeps `mlp`, on `model`.
    assert state.opt_state.v_col["wi"]["kernel"].sharding.spec == PartitionSpec("model")


def test_training_moves_the_params(single_device_run):
    state, metrics = single_device_run
    mesh, rules, network, shardings, _ = _setup(data=1, model=1)
    initial = initialize_state(
        model=network,
        optimizer=OPTIMIZER,
        input_shapes=SHAPES,
        rng=jax.random.key(1),
        shardings=shardings,
        mesh=mesh,
        rules=rules,
    )
    for before, after in zip(jax.tree.leaves(initial.params), jax.tree.leaves(state.params), strict=True):
        assert not np.allclose(before, after)
    assert metrics[0]["learning_rate"] == pytest.approx(0.05)
    assert metrics[0]["grad_norm"] > 0
    assert 0.0 <= metrics[-1]["accuracy"] <= 1.0
    # loss_normalizing_factor=None: the loss is T5X's sum over target tokens; cross_entropy is still per token.
    summed_cross_entropy = metrics[0]["cross_entropy"] * metrics[0]["tokens"]
    assert metrics[0]["loss"] == pytest.approx(summed_cross_entropy + metrics[0]["z_loss"], rel=1e-5)


def test_microbatches_sum_to_the_full_batch():
    whole, whole_metrics = _train(data=2, model=2, dropout_rate=0.0)
    split, split_metrics = _train(data=2, model=2, dropout_rate=0.0, num_microbatches=4)
    _assert_same_params(split.params, whole.params)
    assert [m["loss"] for m in split_metrics] == pytest.approx([m["loss"] for m in whole_metrics], rel=1e-5)
    assert [m["tokens"] for m in split_metrics] == [m["tokens"] for m in whole_metrics]


def test_checkpoint_restores_onto_another_mesh(tmp_path):
    state, _ = _train(data=2, model=2, steps=2)
    manager = checkpoints.open_manager(directory=tmp_path, keep=3)
    assert checkpoints.save(manager=manager, state=state, batches_consumed=2)
    manager.wait_until_finished()
    _, _, _, other_shardings, other_abstract = _setup(data=2, model=4)
    restored, batches_consumed = checkpoints.restore_latest(manager=manager, abstract_state=other_abstract)
    manager.close()
    assert batches_consumed == 2 and int(restored.step) == 2
    _assert_same_params(restored.params, state.params)
    _assert_same_params(restored.opt_state, state.opt_state)
    wi = restored.params["wi"]["kernel"]
    assert wi.sharding.mesh.shape == {"data": 2, "model": 4}
    assert wi.sharding == other_shardings.params["wi"]["kernel"]
