import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec

from personalize.partitioning import distributed
from personalize.partitioning.axis_rules import check_rules_cover, standard_logical_axis_rules
from personalize.partitioning.mesh import create_mesh, model_axis_size
from personalize.partitioning.shardings import global_batch, logical_param_specs, mesh_shardings


def _resolve(names, **dims):
    return nn.logical_to_mesh_axes(names, standard_logical_axis_rules(**dims))


def test_1d_rules_are_t5x_standard():
    assert _resolve(("embed", "mlp")) == PartitionSpec(None, "model")
    assert _resolve(("vocab", "embed")) == PartitionSpec("model", None)
    assert _resolve(("embed", "joined_kv")) == PartitionSpec(None, "model")
    assert _resolve(("embed", "heads", "kv")) == PartitionSpec(None, "model", None)
    assert _resolve(("relpos_buckets", "heads")) == PartitionSpec(None, "model")
    assert _resolve(("batch", "length", "embed")) == PartitionSpec("data", None, None)


def test_2d_parameter_rules_put_embed_on_data():
    assert _resolve(("embed", "mlp"), parameter_partitioning_dims=2) == PartitionSpec("data", "model")
    # Activations keep `batch` on `data`, so their `embed` stays replicated.
    assert _resolve(("batch", "length", "embed"), parameter_partitioning_dims=2) == PartitionSpec("data", None, None)


def test_2d_activation_rules_put_embed_on_model():
    assert _resolve(("batch", "length", "embed"), activation_partitioning_dims=2) == PartitionSpec("data", None, "model")
    # In a kernel, `mlp` claims `model` first.
    assert _resolve(("embed", "mlp"), activation_partitioning_dims=2) == PartitionSpec(None, "model")


def test_bad_rule_settings_are_refused():
    with pytest.raises(ValueError, match="must be 1 or 2"):
        standard_logical_axis_rules(parameter_partitioning_dims=3)
    with pytest.raises(ValueError, match="without a partitioning rule: \\['experts'\\]"):
        check_rules_cover(names={"embed", "experts"}, rules=standard_logical_axis_rules())


def test_model_axis_size():
    assert model_axis_size() == 1
    assert model_axis_size(num_partitions=4) == 4
    assert model_axis_size(model_parallel_submesh=(2, 2, 1, 2)) == 8
    with pytest.raises(ValueError, match="4-tuple"):
        model_axis_size(model_parallel_submesh=(2, 2))
    with pytest.raises(ValueError, match="not both"):
        model_axis_size(num_partitions=2, model_parallel_submesh=(1, 1, 1, 2))


def test_mesh_splits_devices_into_model_groups():
    mesh = create_mesh(num_partitions=2)
    assert mesh.axis_names == ("data", "model") and dict(mesh.shape) == {"data": 4, "model": 2}
    mesh = create_mesh(model_parallel_submesh=(1, 1, 1, 4))
    assert dict(mesh.shape) == {"data": 2, "model": 4}
    with pytest.raises(ValueError, match="cannot be split"):
        create_mesh(num_partitions=3)


class _Named(nn.Module):
    @nn.compact
    def __call__(self, x):
        kernel = self.param("kernel", nn.with_logical_partitioning(nn.initializers.ones, ("embed", "mlp")), (4, 8))
        return x @ kernel


class _Unnamed(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Dense(8, name="dense")(x)


def test_unnamed_parameter_is_rejected():
    boxed = jax.eval_shape(lambda: _Named().init(jax.random.key(0), jnp.ones((2, 4))))["params"]
    assert logical_param_specs(boxed_params=boxed) == {"kernel": PartitionSpec("embed", "mlp")}
    unboxed = jax.eval_shape(lambda: _Unnamed().init(jax.random.key(0), jnp.ones((2, 4))))["params"]
    with pytest.raises(ValueError, match="'dense/(bias|kernel)' has no logical axis names"):
        logical_param_specs(boxed_params=unboxed)


def test_shardings_and_global_batch():
    mesh = create_mesh(num_partitions=2, devices=jax.devices()[:4])
    rules = standard_logical_axis_rules()
    sharding = mesh_shardings(logical_specs={"k": PartitionSpec("embed", "mlp")}, mesh=mesh, rules=rules)["k"]
    assert sharding.spec == PartitionSpec(None, "model")
    local = {"encoder_input_tokens": np.arange(12, dtype=np.int32).reshape(4, 3)}
    batch = global_batch(local_batch=local, mesh=mesh, rules=rules)
    array = batch["encoder_input_tokens"]
    assert array.shape == (4, 3) and array.sharding.spec == PartitionSpec("data", None)
    np.testing.assert_array_equal(np.asarray(array), local["encoder_input_tokens"])
    assert {shard.data.shape for shard in array.addressable_shards} == {(2, 3)}


def test_distributed_initialize_reads_arguments_then_environment(monkeypatch):
    calls = []
    monkeypatch.setattr(jax.distributed, "initialize", lambda **kwargs: calls.append(kwargs))
    distributed.initialize_distributed(
        process_id=1, environ={"JAX_COORDINATOR_ADDRESS": "10.0.0.1:1234", "JAX_NUM_PROCESSES": "4", "JAX_PROCESS_ID": "3"}
    )
    assert calls == [{"coordinator_address": "10.0.0.1:1234", "num_processes": 4, "process_id": 1}]
    distributed.initialize_distributed(environ={})
    assert calls[-1] == {}
    with pytest.raises(ValueError, match=r"missing \['process_id'\]"):
        distributed.initialize_distributed(coordinator_address="h:1", num_processes=2, environ={})
    with pytest.raises(ValueError, match="outside"):
        distributed.initialize_distributed(coordinator_address="h:1", num_processes=2, process_id=2, environ={})


class _Device:
    def __init__(self, process_index):
        self.process_index = process_index


class _Mesh:
    """Just what `data_shard_of_process` reads: axis names and a device grid with process indices."""

    def __init__(self, processes):
        self.axis_names = ("data", "model")
        self.devices = np.vectorize(_Device, otypes=[object])(np.asarray(processes))


def test_each_host_reads_its_own_slice_when_model_groups_stay_within_a_host():
    from personalize.partitioning.shardings import data_shard_of_process

    mesh = _Mesh([[0, 0], [1, 1], [2, 2], [3, 3]])  # data=4, model=2: one host per data row
    assert [data_shard_of_process(mesh=mesh, process_index=p) for p in range(4)] == [(0, 4), (1, 4), (2, 4), (3, 4)]


def test_hosts_of_one_model_parallel_group_read_the_same_examples():
    from personalize.partitioning.shardings import data_shard_of_process

    mesh = _Mesh([[0, 0, 1, 1], [2, 2, 3, 3]])  # data=2, model=4 spread over two hosts per data row
    assert [data_shard_of_process(mesh=mesh, process_index=p) for p in range(4)] == [(0, 2), (0, 2), (1, 2), (1, 2)]
    with pytest.raises(ValueError, match="process 7 holds no device"):
        data_shard_of_process(mesh=mesh, process_index=7)
