"""Adafactor with T5X's settings, as an optax-compatible transformation that knows its state's partitioning.

Settings (T5X defaults): factored second moments (two largest dimensions, both >= 128), decay rate 0.8
(beta2_t = 1 - (t + 1) ** -0.8), no momentum, update clipping at RMS 1.0, step size scaled by the parameter's
RMS (at least 1e-3). The factored row/column statistics of a parameter drop one of its dimensions, so their
logical axis names are the parameter's names without that dimension: the statistics are sharded like the
parameter they describe (`state_logical_specs`).
"""

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import PartitionSpec

from personalize.training.schedules import Schedule


class AdafactorState(NamedTuple):
    """count: updates done; v_row/v_col: factored statistics; v: full statistics; momentum: None when off."""

    count: jax.Array
    v_row: Any
    v_col: Any
    v: Any
    momentum: Any


_PLACEHOLDER_SHAPE = (1,)


def factored_dims(*, shape: tuple[int, ...], factored: bool, min_dim_size_to_factor: int) -> tuple[int, int] | None:
    """(second largest, largest) dimension, or None when the parameter keeps a full second moment."""
    if not factored or len(shape) < 2:
        return None
    order = sorted(range(len(shape)), key=lambda axis: (shape[axis], axis))
    second, largest = order[-2], order[-1]
    if shape[second] < min_dim_size_to_factor:
        return None
    return second, largest


def _rms(x: jax.Array) -> jax.Array:
    return jnp.sqrt(jnp.mean(jnp.square(x)))


@dataclasses.dataclass(frozen=True)
class Adafactor:
    """Adafactor (Shazeer & Stern, 2018) as configured by T5X; `init`/`update` follow optax's contract."""

    learning_rate: float | Schedule
    decay_rate: float = 0.8
    step_offset: int = 0
    clipping_threshold: float | None = 1.0
    multiply_by_parameter_scale: bool = True
    beta1: float | None = None
    epsilon1: float = 1e-30
    epsilon2: float = 1e-3
    factored: bool = True
    min_dim_size_to_factor: int = 128

    def _dims(self, shape: tuple[int, ...]) -> tuple[int, int] | None:
        return factored_dims(
            shape=tuple(shape), factored=self.factored, min_dim_size_to_factor=self.min_dim_size_to_factor
        )

    def learning_rate_at(self, count: jax.Array) -> jax.Array:
        """The step size of the update made when `count` updates are done."""
        if callable(self.learning_rate):
            return jnp.asarray(self.learning_rate(count), jnp.float32)
        return jnp.asarray(self.learning_rate, jnp.float32)

    def init(self, params: Any) -> AdafactorState:
        def row(param):
            dims = self._dims(param.shape)
            return jnp.zeros(_PLACEHOLDER_SHAPE if dims is None else _drop(param.shape, dims[1]), jnp.float32)

        def col(param):
            dims = self._dims(param.shape)
            return jnp.zeros(_PLACEHOLDER_SHAPE if dims is None else _drop(param.shape, dims[0]), jnp.float32)

        def full(param):
            dims = self._dims(param.shape)
            return jnp.zeros(param.shape if dims is None else _PLACEHOLDER_SHAPE, jnp.float32)

        momentum = None
        if self.beta1 is not None:
            momentum = jax.tree.map(lambda p: jnp.zeros(p.shape, jnp.float32), params)
        return AdafactorState(
            count=jnp.zeros([], jnp.int32),
            v_row=jax.tree.map(row, params),
            v_col=jax.tree.map(col, params),
            v=jax.tree.map(full, params),
            momentum=momentum,
        )

    def update(self, updates: Any, state: AdafactorState, params: Any = None) -> tuple[Any, AdafactorState]:
        if params is None:
            raise ValueError("Adafactor scales each update by its parameter's RMS: pass params to update()")
        step = state.count - self.step_offset
        beta2 = 1.0 - jnp.power(step.astype(jnp.float32) + 1.0, -self.decay_rate)
        learning_rate = self.learning_rate_at(state.count)

        def one(grad, v_row, v_col, v, param):
            grad = grad.astype(jnp.float32)
            grad_sqr = jnp.square(grad) + self.epsilon1
            dims = self._dims(param.shape)
            if dims is None:
                v = beta2 * v + (1.0 - beta2) * grad_sqr
                scaled = grad * jax.lax.rsqrt(v)
            else:
                second, largest = dims
                # v_row: mean over the largest dimension; v_col: mean over the second largest.
                v_row = beta2 * v_row + (1.0 - beta2) * jnp.mean(grad_sqr, axis=largest)
                v_col = beta2 * v_col + (1.0 - beta2) * jnp.mean(grad_sqr, axis=second)
                second_in_row = second - 1 if second > largest else second
                row_mean = jnp.mean(v_row, axis=second_in_row, keepdims=True)
                row_factor = jax.lax.rsqrt(v_row / row_mean)
                col_factor = jax.lax.rsqrt(v_col)
                scaled = grad * jnp.expand_dims(row_factor, largest) * jnp.expand_dims(col_factor, second)
            if self.clipping_threshold is not None:
                scaled = scaled / jnp.maximum(1.0, _rms(scaled) / self.clipping_threshold)
            step_size = learning_rate
            if self.multiply_by_parameter_scale:
                step_size = step_size * jnp.maximum(_rms(param.astype(jnp.float32)), self.epsilon2)
            return scaled * step_size, v_row, v_col, v

        treedef = jax.tree.structure(params)
        results = [
            one(*leaves)
            for leaves in zip(
                treedef.flatten_up_to(updates),
                treedef.flatten_up_to(state.v_row),
                treedef.flatten_up_to(state.v_col),
                treedef.flatten_up_to(state.v),
                treedef.flatten_up_to(params),
            )
        ]
        steps, v_row, v_col, v = (treedef.unflatten(part) for part in zip(*results))
        momentum = state.momentum
        if self.beta1 is not None:
            momentum = jax.tree.map(lambda m, s: self.beta1 * m + (1.0 - self.beta1) * s, momentum, steps)
            steps = momentum
        new_updates = jax.tree.map(lambda s, p: (-s).astype(p.dtype), steps, params)
        return new_updates, AdafactorState(
            count=optax.safe_int32_increment(state.count), v_row=v_row, v_col=v_col, v=v, momentum=momentum
        )

    def state_from_t5x(
        self, *, params: Any, step: int, param_states: Mapping[str, Mapping[str, np.ndarray]], source: str
    ) -> AdafactorState:
        """The state a T5X checkpoint's Adafactor left (host arrays): its step and each parameter's statistics.

        T5X keeps the same statistics under the same names (`state/param_states/<path>/v_row`, `v_col`, `v`, `m`,
        unused ones as shape (1,)), so fine-tuning continues the second-moment estimates rather than restarting
        them. Fails, naming the parameter, when a statistic is missing or its shape disagrees with these settings.
        An empty `param_states` (a checkpoint with the step only) gives fresh statistics at that step.
        """
        abstract = jax.eval_shape(self.init, params)
        treedef = jax.tree.structure(params)
        paths = ["/".join(str(key.key) for key in path) for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]]

        def statistic(name: str, expected: list[jax.ShapeDtypeStruct]) -> Any:
            leaves = []
            for path, shape in zip(paths, expected):
                if not param_states:
                    leaves.append(np.zeros(shape.shape, np.float32))
                    continue
                if path not in param_states or name not in param_states[path]:
                    raise ValueError(f"{source}: no Adafactor statistic state/param_states/{path}/{name}")
                value = np.asarray(param_states[path][name], np.float32)
                if value.shape != tuple(shape.shape):
                    raise ValueError(
                        f"{source}: state/param_states/{path}/{name} has shape {value.shape}; this Adafactor "
                        f"(factored={self.factored}, min_dim_size_to_factor={self.min_dim_size_to_factor}) keeps "
                        f"{name} of shape {tuple(shape.shape)}"
                    )
                leaves.append(value)
            return treedef.unflatten(leaves)

        momentum = None
        if self.beta1 is not None:
            shapes = treedef.flatten_up_to(abstract.momentum)
            momentum = treedef.unflatten([
                np.asarray(param_states[path]["m"], np.float32)
                if param_states and np.shape(param_states[path].get("m")) == tuple(shape.shape)
                else np.zeros(shape.shape, np.float32)
                for path, shape in zip(paths, shapes)
            ])
        return AdafactorState(
            count=np.asarray(step, np.int32),
            v_row=statistic("v_row", treedef.flatten_up_to(abstract.v_row)),
            v_col=statistic("v_col", treedef.flatten_up_to(abstract.v_col)),
            v=statistic("v", treedef.flatten_up_to(abstract.v)),
            momentum=momentum,
        )

    def state_logical_specs(self, *, param_specs: Any, params: Any) -> AdafactorState:
        """Logical PartitionSpecs of the state: each statistic named after the dimensions it keeps."""
        treedef = jax.tree.structure(params)
        specs = treedef.flatten_up_to(param_specs)
        shapes = [tuple(p.shape) for p in treedef.flatten_up_to(params)]
        replicated = PartitionSpec()

        def row(spec, shape):
            dims = self._dims(shape)
            return replicated if dims is None else PartitionSpec(*_drop(tuple(spec), dims[1]))

        def col(spec, shape):
            dims = self._dims(shape)
            return replicated if dims is None else PartitionSpec(*_drop(tuple(spec), dims[0]))

        def full(spec, shape):
            return spec if self._dims(shape) is None else replicated

        return AdafactorState(
            count=replicated,
            v_row=treedef.unflatten([row(s, shape) for s, shape in zip(specs, shapes)]),
            v_col=treedef.unflatten([col(s, shape) for s, shape in zip(specs, shapes)]),
            v=treedef.unflatten([full(s, shape) for s, shape in zip(specs, shapes)]),
            momentum=None if self.beta1 is None else param_specs,
        )


def _drop(items: tuple, index: int) -> tuple:
    return tuple(item for i, item in enumerate(items) if i != index)
