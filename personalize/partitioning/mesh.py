"""The ('data', 'model') device mesh, from `num_partitions` or a T5X `model_parallel_submesh`."""

import math
from collections.abc import Sequence

import jax
import numpy as np
from jax.experimental import mesh_utils

from personalize.partitioning.axis_rules import DATA_AXIS, MODEL_AXIS


def model_axis_size(*, num_partitions: int | None = None, model_parallel_submesh: Sequence[int] | None = None) -> int:
    """How many devices hold one model replica: `num_partitions`, or the product of the (x, y, z, core) submesh."""
    if num_partitions is not None and model_parallel_submesh is not None:
        raise ValueError("set either num_partitions or model_parallel_submesh, not both")
    if model_parallel_submesh is not None:
        if len(model_parallel_submesh) != 4 or any(int(n) < 1 for n in model_parallel_submesh):
            raise ValueError(
                f"model_parallel_submesh is a 4-tuple (x, y, z, core) of positive sizes, got {model_parallel_submesh!r}"
            )
        return math.prod(int(n) for n in model_parallel_submesh)
    if num_partitions is None:
        return 1
    if num_partitions < 1:
        raise ValueError(f"num_partitions must be positive, got {num_partitions}")
    return int(num_partitions)


def create_mesh(
    *,
    num_partitions: int | None = None,
    model_parallel_submesh: Sequence[int] | None = None,
    devices: Sequence[jax.Device] | None = None,
) -> jax.sharding.Mesh:
    """A 2-D mesh: every device is in one `model` group of the requested size; the groups form the `data` axis.

    On TPU `mesh_utils.create_device_mesh` lays the model groups out on the physical torus; on CPU and GPU it is
    a plain split of the device list.
    """
    devices = list(jax.devices() if devices is None else devices)
    model = model_axis_size(num_partitions=num_partitions, model_parallel_submesh=model_parallel_submesh)
    if len(devices) % model:
        raise ValueError(f"{len(devices)} devices cannot be split into model-parallel groups of {model}")
    shape = (len(devices) // model, model)
    try:
        device_grid = mesh_utils.create_device_mesh(shape, devices=devices)
    except (AssertionError, NotImplementedError, ValueError):
        device_grid = np.asarray(devices, dtype=object).reshape(shape)
    return jax.sharding.Mesh(device_grid, (DATA_AXIS, MODEL_AXIS))
