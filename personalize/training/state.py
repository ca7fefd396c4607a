"""The train state (step, params, optimizer state), its shardings, and its sharded initialisation."""

from collections.abc import Mapping
from typing import Any, Protocol

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
from flax.core import meta

from personalize.partitioning.axis_rules import LogicalAxisRules
from personalize.partitioning.shardings import logical_param_specs, mesh_shardings, partitioning_context


class PartitionedOptimizer(Protocol):
    """An optax-style transformation that can also name its state's axes (see training/adafactor.py)."""

    def init(self, params: Any) -> Any: ...

    def update(self, updates: Any, state: Any, params: Any = None) -> tuple[Any, Any]: ...

    def state_logical_specs(self, *, param_specs: Any, params: Any) -> Any: ...

    def learning_rate_at(self, count: jax.Array) -> jax.Array: ...


@flax.struct.dataclass
class TrainState:
    """step: optimizer updates done (int32 scalar); params: unboxed float32 parameters; opt_state."""

    step: jax.Array
    params: Any
    opt_state: Any


def _init_inputs(input_shapes: Mapping[str, tuple[int, ...]]) -> dict[str, jax.Array]:
    for name in ("encoder_input_tokens", "decoder_input_tokens"):
        if name not in input_shapes:
            raise ValueError(f"input_shapes needs {name!r}, got {sorted(input_shapes)}")
    return {name: jnp.ones(shape, jnp.int32) for name, shape in input_shapes.items()}


def boxed_params(*, model: nn.Module, rng: jax.Array, input_shapes: Mapping[str, tuple[int, ...]]) -> Any:
    """The model's params as `model.init` returns them, still boxed with their logical axis names."""
    inputs = _init_inputs(input_shapes)
    variables = model.init(
        {"params": rng},
        inputs["encoder_input_tokens"],
        inputs["decoder_input_tokens"],
        inputs.get("decoder_target_tokens", inputs["decoder_input_tokens"]),
        enable_dropout=False,
    )
    return variables["params"]


def logical_state_specs(
    *, model: nn.Module, optimizer: PartitionedOptimizer, input_shapes: Mapping[str, tuple[int, ...]]
) -> tuple[TrainState, TrainState]:
    """(logical PartitionSpecs, abstract ShapeDtypeStructs) of the train state, without allocating anything."""
    boxed = jax.eval_shape(
        lambda rng: boxed_params(model=model, rng=rng, input_shapes=input_shapes), jax.random.key(0)
    )
    param_specs = logical_param_specs(boxed_params=boxed)
    params = meta.unbox(boxed)
    opt_state = jax.eval_shape(optimizer.init, params)
    specs = TrainState(
        step=jax.sharding.PartitionSpec(),
        params=param_specs,
        opt_state=optimizer.state_logical_specs(param_specs=param_specs, params=params),
    )
    abstract = TrainState(step=jax.ShapeDtypeStruct((), jnp.int32), params=params, opt_state=opt_state)
    return specs, abstract


def state_shardings(
    *,
    model: nn.Module,
    optimizer: PartitionedOptimizer,
    input_shapes: Mapping[str, tuple[int, ...]],
    mesh: jax.sharding.Mesh,
    rules: LogicalAxisRules,
) -> tuple[TrainState, TrainState]:
    """(NamedShardings, abstract state carrying those shardings): the target for sharded init and restore."""
    specs, abstract = logical_state_specs(model=model, optimizer=optimizer, input_shapes=input_shapes)
    shardings = mesh_shardings(logical_specs=specs, mesh=mesh, rules=rules)
    abstract = jax.tree.map(
        lambda shape, sharding: jax.ShapeDtypeStruct(shape.shape, shape.dtype, sharding=sharding),
        abstract,
        shardings,
    )
    return shardings, abstract


def initialize_state(
    *,
    model: nn.Module,
    optimizer: PartitionedOptimizer,
    input_shapes: Mapping[str, tuple[int, ...]],
    rng: jax.Array,
    shardings: TrainState,
    mesh: jax.sharding.Mesh,
    rules: LogicalAxisRules,
) -> TrainState:
    """Initialise params and optimizer state directly in their shards (no full copy on one device)."""

    def init(rng: jax.Array) -> TrainState:
        params = meta.unbox(boxed_params(model=model, rng=rng, input_shapes=input_shapes))
        return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=optimizer.init(params))

    with partitioning_context(mesh=mesh, rules=rules):
        return jax.jit(init, out_shardings=shardings)(rng)
