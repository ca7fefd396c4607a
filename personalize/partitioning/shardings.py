"""Shardings from logical axis names: parameters, optimizer state and input batches."""

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import flax.linen as nn
import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from personalize.partitioning.axis_rules import LogicalAxisRules, check_rules_cover

# Logical axes of every array of an EncDecFeatureConverter batch: [batch, length].
BATCH_LOGICAL_AXES = ("batch", "length")


def _is_box(value: Any) -> bool:
    return isinstance(value, nn.Partitioned)


def _path_name(path: tuple) -> str:
    return "/".join(str(getattr(key, "key", getattr(key, "name", key))) for key in path)


def logical_param_specs(*, boxed_params: Any) -> Any:
    """Logical PartitionSpecs of a (possibly abstract) boxed param tree; fails on any parameter without names.

    Every parameter must come out of `nn.with_logical_partitioning` with one name per dimension: an unnamed
    parameter would otherwise be silently replicated on every device.
    """

    def spec(path: tuple, leaf: Any) -> PartitionSpec:
        if not isinstance(leaf, nn.LogicallyPartitioned):
            raise ValueError(
                f"parameter {_path_name(path)!r} has no logical axis names; wrap its initializer with "
                "nn.with_logical_partitioning"
            )
        names = tuple(leaf.names)
        if len(names) != len(leaf.value.shape):
            raise ValueError(
                f"parameter {_path_name(path)!r} has shape {leaf.value.shape} but logical names {names}"
            )
        return PartitionSpec(*names)

    return jax.tree_util.tree_map_with_path(spec, boxed_params, is_leaf=_is_box)


def logical_names(logical_specs: Any) -> set[str]:
    """Every logical name used in a tree of logical PartitionSpecs."""
    names: set[str] = set()
    for spec in jax.tree.leaves(logical_specs, is_leaf=lambda x: isinstance(x, PartitionSpec)):
        names.update(name for name in spec if isinstance(name, str))
    return names


def mesh_shardings(*, logical_specs: Any, mesh: jax.sharding.Mesh, rules: LogicalAxisRules) -> Any:
    """NamedShardings on `mesh` for a tree of logical PartitionSpecs; every name must have a rule."""
    check_rules_cover(names=logical_names(logical_specs), rules=rules)
    return nn.logical_to_mesh_sharding(logical_specs, mesh, rules)


def batch_sharding(*, mesh: jax.sharding.Mesh, rules: LogicalAxisRules) -> NamedSharding:
    """Sharding of each [batch, length] feature: examples split over `data`."""
    return NamedSharding(mesh, nn.logical_to_mesh_axes(BATCH_LOGICAL_AXES, rules))


def data_shard_of_process(*, mesh: jax.sharding.Mesh, process_index: int | None = None) -> tuple[int, int]:
    """(index, count) of the slice of every global batch this process reads.

    Processes whose devices hold the same rows of the `data` axis (a model-parallel group spread over several
    hosts, as for T5-11B with a 16-chip model axis) form one group and must read the same examples; the batch is
    split over the groups, not over the processes.
    """
    process_index = jax.process_index() if process_index is None else process_index
    data_axis = mesh.axis_names.index("data")
    rows_of: dict[int, set[int]] = {}
    for position in np.ndindex(mesh.devices.shape):
        rows_of.setdefault(mesh.devices[position].process_index, set()).add(position[data_axis])
    groups = sorted({tuple(sorted(rows)) for rows in rows_of.values()})
    if process_index not in rows_of:
        raise ValueError(f"process {process_index} holds no device of the mesh")
    return groups.index(tuple(sorted(rows_of[process_index]))), len(groups)


def global_batch(
    *, local_batch: Mapping[str, np.ndarray], mesh: jax.sharding.Mesh, rules: LogicalAxisRules
) -> dict[str, jax.Array]:
    """Host-local arrays -> global jax.Arrays: each process passes the examples of its data shard (see
    `data_shard_of_process`); processes of one model-parallel group pass the same examples."""
    sharding = batch_sharding(mesh=mesh, rules=rules)
    _, num_shards = data_shard_of_process(mesh=mesh)
    arrays = {}
    for name, value in local_batch.items():
        value = np.asarray(value)
        global_shape = (value.shape[0] * num_shards, *value.shape[1:])
        arrays[name] = jax.make_array_from_process_local_data(sharding, value, global_shape)
    return arrays


@contextlib.contextmanager
def partitioning_context(*, mesh: jax.sharding.Mesh, rules: LogicalAxisRules) -> Iterator[None]:
    """Mesh and rules in scope while tracing, so the model's `nn.with_logical_constraint` calls take effect."""
    with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
        yield
