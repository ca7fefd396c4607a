"""Compile the project's real train step (and beam-search decode) for a TPU slice, on the CPU host.

The abstract state, its shardings and every PRNG key are made on the host (JAX_PLATFORMS=cpu), outside the mesh
context: an eager op inside it would try to run on the absent TPU. Only `lower(...).compile()` sees the slice.
"""

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec

from personalize.compile.settings import RunSettings
from personalize.decoding.generate import _generate
from personalize.partitioning.axis_rules import standard_logical_axis_rules
from personalize.partitioning.mesh import create_mesh
from personalize.partitioning.partitioner import Partitioner
from personalize.partitioning.shardings import batch_sharding, partitioning_context
from personalize.training.finetune import model_input_shapes, prng_impl
from personalize.training.state import state_shardings
from personalize.training.steps import compile_train_step

# EncDecFeatureConverter's packed training features ([batch, length] int32 each).
_ENCODER_FEATURES = ("encoder_input_tokens", "encoder_segment_ids", "encoder_positions")
_DECODER_FEATURES = ("decoder_input_tokens", "decoder_target_tokens", "decoder_loss_weights",
                     "decoder_segment_ids", "decoder_positions")


@dataclasses.dataclass(frozen=True)
class Compiled:
    """What one compilation reports, per device."""

    memory: Any  # CompiledMemoryStats
    cost: Mapping[str, float]
    hlo_text: str
    abstract_params: Any  # ShapeDtypeStructs carrying their shardings


class DoesNotFit(Exception):
    """XLA refused the program: its buffers exceed the chip's HBM. `required_bytes` is what XLA says it needs."""

    def __init__(self, *, required_bytes: int, available_bytes: int, message: str):
        super().__init__(message)
        self.required_bytes = required_bytes
        self.available_bytes = available_bytes


# "Ran out of memory on HBM, the total memory required for HLO temporaries (66.27G) exceeds available HBM (15.75G)"
_OUT_OF_MEMORY = re.compile(r"Ran out of memory.*?\(([\d.]+)([KMGT]?)\).*?available HBM \(([\d.]+)([KMGT]?)\)", re.S)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _compile(lowered: Any) -> Any:
    """`lowered.compile()`, with XLA's out-of-memory refusal turned into DoesNotFit."""
    try:
        return lowered.compile()
    except jax.errors.JaxRuntimeError as error:
        match = _OUT_OF_MEMORY.search(str(error))
        if not match:
            raise
        required, required_unit, available, available_unit = match.groups()
        raise DoesNotFit(required_bytes=int(float(required) * _UNITS[required_unit]),
                         available_bytes=int(float(available) * _UNITS[available_unit]),
                         message=str(error).splitlines()[0]) from None


def make_slice_partitioner(*, devices: list, partitioning: Mapping[str, Any]) -> Partitioner:
    """The partitioner `make_partitioner` builds from the same settings, on the slice's devices."""
    mesh = create_mesh(num_partitions=partitioning.get("num_partitions"),
                       model_parallel_submesh=partitioning.get("model_parallel_submesh"), devices=devices)
    rules = standard_logical_axis_rules(
        parameter_partitioning_dims=partitioning.get("parameter_partitioning_dims", 1),
        activation_partitioning_dims=partitioning.get("activation_partitioning_dims", 1),
        additional_rules=partitioning.get("additional_rules", ()),
    )
    return Partitioner(mesh=mesh, rules=rules)


def _batch(*, names: tuple[str, ...], batch_size: int, length: int, sharding: NamedSharding) -> dict:
    return {name: jax.ShapeDtypeStruct((batch_size, length), jnp.int32, sharding=sharding) for name in names}


def _check_batch(*, batch_size: int, data_shards: int, num_microbatches: int = 1) -> None:
    if batch_size % (data_shards * num_microbatches):
        raise ValueError(f"batch size {batch_size} does not split into {data_shards} data shards x "
                         f"{num_microbatches} microbatches")


def compile_train(*, settings: RunSettings, partitioner: Partitioner) -> Compiled:
    """`steps.compile_train_step`'s step, lowered for the abstract state and a packed global batch, compiled."""
    mesh, rules = partitioner.mesh, partitioner.rules
    _check_batch(batch_size=settings.batch_size, data_shards=mesh.shape["data"],
                 num_microbatches=settings.num_microbatches)
    input_shapes = model_input_shapes(task_feature_lengths=settings.task_feature_lengths,
                                      batch_size=mesh.shape["data"])
    shardings, abstract = state_shardings(model=settings.model, optimizer=settings.optimizer,
                                          input_shapes=input_shapes, mesh=mesh, rules=rules)
    sharding = batch_sharding(mesh=mesh, rules=rules)
    lengths = settings.task_feature_lengths
    batch = {**_batch(names=_ENCODER_FEATURES, batch_size=settings.batch_size, length=int(lengths["inputs"]),
                      sharding=sharding),
             **_batch(names=_DECODER_FEATURES, batch_size=settings.batch_size, length=int(lengths["targets"]),
                      sharding=sharding)}
    key = jax.eval_shape(lambda: jax.random.key(0, impl=prng_impl(settings.use_hardware_rng)))
    dropout_key = jax.ShapeDtypeStruct(key.shape, key.dtype, sharding=NamedSharding(mesh, PartitionSpec()))
    step = compile_train_step(model=settings.model, optimizer=settings.optimizer, shardings=shardings, mesh=mesh,
                              rules=rules, z_loss=settings.z_loss, label_smoothing=settings.label_smoothing,
                              loss_normalizing_factor=settings.loss_normalizing_factor,
                              num_microbatches=settings.num_microbatches)
    compiled = _compile(step.lower(abstract, batch, dropout_key))
    return Compiled(memory=compiled.memory_analysis(), cost=_cost(compiled), hlo_text=compiled.as_text(),
                    abstract_params=abstract.params)


def compile_decode(*, settings: RunSettings, partitioner: Partitioner, abstract_params: Any) -> Compiled:
    """The beam-search `generate` (encode, prefill, search loop) for one batch at the decode feature lengths."""
    mesh, rules = partitioner.mesh, partitioner.rules
    _check_batch(batch_size=settings.decode_batch_size, data_shards=mesh.shape["data"])
    replicated = NamedSharding(mesh, PartitionSpec())
    tokens = jax.ShapeDtypeStruct((settings.decode_batch_size, int(settings.decode_feature_lengths["inputs"])),
                                  jnp.int32, sharding=batch_sharding(mesh=mesh, rules=rules))
    rng = jax.ShapeDtypeStruct((2,), jnp.uint32, sharding=replicated)
    alpha = jax.ShapeDtypeStruct((), jnp.float32, sharding=replicated)
    with partitioning_context(mesh=mesh, rules=rules):
        lowered = _generate.lower(abstract_params, tokens, rng, alpha, model=settings.model,
                                  max_decode_length=int(settings.decode_feature_lengths["targets"]), method="beam",
                                  num_beams=settings.num_beams, temperature=1.0, top_k=0, eos_id=1)
    compiled = _compile(lowered)
    return Compiled(memory=compiled.memory_analysis(), cost=_cost(compiled), hlo_text=compiled.as_text(),
                    abstract_params=abstract_params)


def _cost(compiled: Any) -> dict[str, float]:
    cost = compiled.cost_analysis()
    if isinstance(cost, list):  # older JAX: one dict per program
        cost = cost[0] if cost else {}
    return {name: float(cost.get(name, 0.0)) for name in ("flops", "bytes accessed")}
