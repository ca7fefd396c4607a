"""The mesh and the rule table together: what a run needs to place arrays and trace the model."""

import dataclasses
from collections.abc import Sequence

import jax

from personalize.partitioning.axis_rules import LogicalAxisRules, standard_logical_axis_rules
from personalize.partitioning.mesh import create_mesh


@dataclasses.dataclass(frozen=True)
class Partitioner:
    mesh: jax.sharding.Mesh
    rules: LogicalAxisRules


def make_partitioner(
    *,
    num_partitions: int | None = None,
    model_parallel_submesh: Sequence[int] | None = None,
    parameter_partitioning_dims: int = 1,
    activation_partitioning_dims: int = 1,
    additional_rules: Sequence[Sequence[str | None]] = (),
) -> Partitioner:
    """T5X's PjitPartitioner settings: model axis size from num_partitions or the submesh, plus the rule table."""
    return Partitioner(
        mesh=create_mesh(num_partitions=num_partitions, model_parallel_submesh=model_parallel_submesh),
        rules=standard_logical_axis_rules(
            parameter_partitioning_dims=parameter_partitioning_dims,
            activation_partitioning_dims=activation_partitioning_dims,
            additional_rules=additional_rules,
        ),
    )
