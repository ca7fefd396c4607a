"""The run a set of gin files configures, read without building it: what `personalize train` would compile.

`personalize train` calls the gin-configured `finetune.train`, which builds the partitioner (a mesh of this host's
devices) and the datasets. Compiling for a slice needs the same model, optimizer, lengths, batch and
partitioning settings, on the slice's devices instead, and no data: so the bindings are read here one by one.
"""

import copy
import dataclasses
import inspect
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import gin

from personalize.partitioning import partitioner
from personalize.training import data, finetune, inference

TRAIN_FIELDS = ("model", "optimizer", "task_feature_lengths", "z_loss", "label_smoothing",
                "loss_normalizing_factor", "num_microbatches", "use_hardware_rng")
BEAM_DEFAULTS = {"num_beams": 4, "alpha": 0.6}  # runs/infer.gin's, the paper's beam size


@dataclasses.dataclass(frozen=True)
class RunSettings:
    model: nn.Module
    optimizer: Any
    task_feature_lengths: Mapping[str, int]
    batch_size: int
    num_microbatches: int
    use_hardware_rng: bool
    z_loss: float
    label_smoothing: float
    loss_normalizing_factor: Any
    partitioning: dict[str, Any]  # make_partitioner's keyword arguments
    decode_feature_lengths: Mapping[str, int]
    decode_batch_size: int
    num_beams: int
    alpha: float


def _bindings(function: Any) -> dict[str, Any]:
    """The function's gin bindings, unevaluated; none when no gin file registers it."""
    try:
        return gin.get_bindings(function, resolve_references=False)
    except ValueError:
        return {}


def _resolved(bindings: Mapping[str, Any], name: str, function: Any) -> Any:
    """A binding with its references evaluated (gin evaluates on deepcopy), or the function's default."""
    if name in bindings:
        return copy.deepcopy(bindings[name])
    default = inspect.signature(function).parameters[name].default
    if default is inspect.Parameter.empty:
        raise ValueError(f"the gin files do not bind {function.__name__}.{name}")
    return default


def _batch_size(reference: Any, *, what: str) -> int:
    """The batch size of a `@scope/data.SeqioBatches()` reference, without building the dataset."""
    if not isinstance(reference, gin.config.ConfigurableReference) or reference.configurable.wrapped is not data.SeqioBatches:
        raise ValueError(f"{what} is not a data.SeqioBatches reference in the gin files: cannot tell its batch size")
    with gin.config_scope(reference.scopes):
        bindings = gin.get_bindings(data.SeqioBatches, resolve_references=False)
    if "batch_size" not in bindings:
        raise ValueError(f"the gin files do not bind {what}'s batch_size")
    return int(copy.deepcopy(bindings["batch_size"]))


def read_run_settings() -> RunSettings:
    """The settings of the parsed gin configuration (a model gin + runs/finetune.gin [+ a partitioning gin])."""
    train = _bindings(finetune.train)
    if "model" not in train:
        raise ValueError("the gin files configure no finetune.train: pass a model gin and runs/finetune.gin")
    values = {name: _resolved(train, name, finetune.train) for name in TRAIN_FIELDS}
    batch_size = _batch_size(train.get("train_data"), what="finetune.train.train_data")
    infer = _bindings(inference.infer)
    decode_lengths = (copy.deepcopy(infer["task_feature_lengths"]) if "task_feature_lengths" in infer
                      else values["task_feature_lengths"])
    decode_batch = _batch_size(infer["infer_data"], what="inference.infer.infer_data") if "infer_data" in infer else batch_size
    beams = {name: (copy.deepcopy(infer[name]) if name in infer else default) for name, default in BEAM_DEFAULTS.items()}
    return RunSettings(
        **values,
        batch_size=batch_size,
        partitioning=copy.deepcopy(_bindings(partitioner.make_partitioner)),
        decode_feature_lengths=decode_lengths,
        decode_batch_size=decode_batch,
        num_beams=int(beams["num_beams"]),
        alpha=float(beams["alpha"]),
    )
