"""Import published T5 weights from local files into this package's parameter tree.

Two sources, both read from a local path (nothing is downloaded):
- Hugging Face folders (config.json + model.safetensors, or shards listed in model.safetensors.index.json) for
  T5 1.0, T5 1.1 and Flan-T5; the network shape is read from config.json.
- T5X checkpoint folders (a `checkpoint` msgpack file whose leaves are TensorStore specs of zarr arrays stored beside
  it, or inline arrays), as published for T5 1.1 and Flan-T5. Their `target` tree already uses our module names; the
  shape comes from the model gin file, and is checked against every array.

All arrays come back as float32 numpy arrays in a nested dict, ready for `{'params': tree}`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import tensorstore as ts
from flax import serialization, traverse_util

from personalize.models.t5.config import T5Config
from personalize.models.t5.network import Transformer

_HF_ACTIVATIONS = {
    "relu": ("relu",),
    "gated-gelu": ("gelu", "linear"),
    "gated-relu": ("relu", "linear"),
}

_SAFETENSORS_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype(ml_dtypes.bfloat16),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
}


class CheckpointImportError(ValueError):
    """A checkpoint that cannot be mapped onto the T5 tree; names the file and the tensor."""


def param_shapes(*, config: T5Config) -> dict[str, Any]:
    """The parameter tree of `config` as shapes only (no memory is allocated)."""
    model = Transformer(config)
    tokens = jnp.ones((1, 1), jnp.int32)
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), tokens, tokens, enable_dropout=False))
    return nn.unbox(variables["params"])


def check_params(*, config: T5Config, params: Mapping[str, Any], source: str) -> None:
    """Fails, naming the source and the parameter, unless `params` has exactly the tree and shapes of `config`."""
    expected = {"/".join(k): v.shape for k, v in traverse_util.flatten_dict(param_shapes(config=config)).items()}
    found = {"/".join(k): np.shape(v) for k, v in traverse_util.flatten_dict(dict(params)).items()}
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        raise CheckpointImportError(f"{source}: parameters missing {missing[:5]} / unexpected {extra[:5]}"
                                    f" ({len(missing)} missing, {len(extra)} unexpected)")
    for name, shape in expected.items():
        if tuple(found[name]) != tuple(shape):
            raise CheckpointImportError(f"{source}: parameter {name} has shape {found[name]}, the config needs {shape}")


def config_from_hf(*, hf_config: Mapping[str, Any], dtype: str = "bfloat16", source: str = "config.json") -> T5Config:
    """Our T5Config from a Hugging Face T5 config.json mapping."""
    projection = hf_config.get("feed_forward_proj", "relu")
    if projection not in _HF_ACTIVATIONS:
        raise CheckpointImportError(f"{source}: feed_forward_proj {projection!r} is not supported "
                                    f"(supported: {sorted(_HF_ACTIVATIONS)})")
    try:
        num_layers = int(hf_config["num_layers"])
        return T5Config(
            vocab_size=int(hf_config["vocab_size"]),
            emb_dim=int(hf_config["d_model"]),
            num_heads=int(hf_config["num_heads"]),
            head_dim=int(hf_config["d_kv"]),
            mlp_dim=int(hf_config["d_ff"]),
            num_encoder_layers=num_layers,
            num_decoder_layers=int(hf_config.get("num_decoder_layers") or num_layers),
            mlp_activations=_HF_ACTIVATIONS[projection],
            dropout_rate=float(hf_config.get("dropout_rate", 0.1)),
            logits_via_embedding=_hf_scales_tied_logits(hf_config),
            relative_attention_num_buckets=int(hf_config.get("relative_attention_num_buckets", 32)),
            relative_attention_max_distance=int(hf_config.get("relative_attention_max_distance", 128)),
            layer_norm_epsilon=float(hf_config.get("layer_norm_epsilon", 1e-6)),
            dtype=dtype,
        )
    except KeyError as err:
        raise CheckpointImportError(f"{source}: missing field {err.args[0]!r}") from err


def _hf_scales_tied_logits(hf_config: Mapping[str, Any]) -> bool:
    """Whether the output layer is the embedding scaled by 1/sqrt(d_model) (T5 1.0).

    Published T5 1.1 / Flan-T5 configs say tie_word_embeddings=false (and ship lm_head.weight). transformers >= 5
    always writes tie_word_embeddings=true and marks T5 1.1 with scale_decoder_outputs=false instead (an unscaled
    output layer that shares the embedding's values).
    """
    return bool(hf_config.get("scale_decoder_outputs", hf_config.get("tie_word_embeddings", True)))


def read_safetensors(*, path: str) -> dict[str, np.ndarray]:
    """The tensors of one .safetensors file as read-only memory maps (bfloat16 via ml_dtypes), so large
    checkpoints are read one tensor at a time."""
    with open(path, "rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_size)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _SAFETENSORS_DTYPES:
            raise CheckpointImportError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        tensors[name] = data[begin:end].view(_SAFETENSORS_DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors


def _hf_tensors(folder: str) -> dict[str, np.ndarray]:
    index_path = os.path.join(folder, "model.safetensors.index.json")
    single_path = os.path.join(folder, "model.safetensors")
    if os.path.exists(index_path):
        with open(index_path) as f:
            weight_map = json.load(f)["weight_map"]
        tensors = {}
        for shard in sorted(set(weight_map.values())):
            tensors.update(read_safetensors(path=os.path.join(folder, shard)))
        missing = sorted(set(weight_map) - set(tensors))
        if missing:
            raise CheckpointImportError(f"{index_path}: tensors listed but not found in the shards: {missing[:5]}")
        return tensors
    if os.path.exists(single_path):
        return read_safetensors(path=single_path)
    raise CheckpointImportError(f"{folder}: neither model.safetensors nor model.safetensors.index.json found")


def hf_name_map(config: T5Config) -> dict[str, tuple[str, bool]]:
    """Hugging Face tensor name -> (our parameter path, whether to transpose)."""
    names: dict[str, tuple[str, bool]] = {"shared.weight": ("token_embedder/embedding", False)}
    wi = ["wi"] if len(config.mlp_activations) == 1 else [f"wi_{i}" for i in range(len(config.mlp_activations))]

    def attention(hf_prefix: str, ours: str) -> None:
        for hf, our in (("q", "query"), ("k", "key"), ("v", "value"), ("o", "out")):
            names[f"{hf_prefix}.{hf}.weight"] = (f"{ours}/{our}/kernel", True)

    def mlp(hf_prefix: str, ours: str) -> None:
        for name in wi + ["wo"]:
            names[f"{hf_prefix}.DenseReluDense.{name}.weight"] = (f"{ours}/mlp/{name}/kernel", True)
        names[f"{hf_prefix}.layer_norm.weight"] = (f"{ours}/pre_mlp_layer_norm/scale", False)

    for i in range(config.num_encoder_layers):
        hf, ours = f"encoder.block.{i}.layer", f"encoder/layers_{i}"
        attention(f"{hf}.0.SelfAttention", f"{ours}/attention")
        names[f"{hf}.0.layer_norm.weight"] = (f"{ours}/pre_attention_layer_norm/scale", False)
        mlp(f"{hf}.1", ours)
    for i in range(config.num_decoder_layers):
        hf, ours = f"decoder.block.{i}.layer", f"decoder/layers_{i}"
        attention(f"{hf}.0.SelfAttention", f"{ours}/self_attention")
        names[f"{hf}.0.layer_norm.weight"] = (f"{ours}/pre_self_attention_layer_norm/scale", False)
        attention(f"{hf}.1.EncDecAttention", f"{ours}/encoder_decoder_attention")
        names[f"{hf}.1.layer_norm.weight"] = (f"{ours}/pre_cross_attention_layer_norm/scale", False)
        mlp(f"{hf}.2", ours)
    for stack in ("encoder", "decoder"):
        names[f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"] = (
            f"{stack}/relpos_bias/rel_embedding", True)
        names[f"{stack}.final_layer_norm.weight"] = (f"{stack}/{stack}_norm/scale", False)
    if not config.logits_via_embedding:
        names["lm_head.weight"] = ("decoder/logits_dense/kernel", True)
    return names


def params_from_hf_tensors(*, tensors: Mapping[str, np.ndarray], name_map: Mapping[str, tuple[str, bool]],
                           source: str) -> dict[str, Any]:
    """Our float32 parameter tree from Hugging Face tensors, every name of `name_map` required."""
    flat = {}
    for hf_name, (ours, transpose) in name_map.items():
        if hf_name not in tensors:
            raise CheckpointImportError(f"{source}: tensor {hf_name} is missing")
        array = np.asarray(tensors[hf_name], dtype=np.float32)
        flat[tuple(ours.split("/"))] = np.ascontiguousarray(array.T) if transpose else array
    return traverse_util.unflatten_dict(flat)


def load_hf_t5(*, path: str, dtype: str = "bfloat16") -> tuple[T5Config, dict[str, Any]]:
    """(config, params) from a local Hugging Face T5 / Flan-T5 folder; `dtype` is the activation dtype."""
    config_path = os.path.join(path, "config.json")
    if not os.path.exists(config_path):
        raise CheckpointImportError(f"{path}: no config.json")
    with open(config_path) as f:
        config = config_from_hf(hf_config=json.load(f), dtype=dtype, source=config_path)
    tensors = _hf_tensors(path)
    if "shared.weight" not in tensors and "encoder.embed_tokens.weight" in tensors:
        tensors["shared.weight"] = tensors["encoder.embed_tokens.weight"]
    if not config.logits_via_embedding and "lm_head.weight" not in tensors and "shared.weight" in tensors:
        # An unscaled output layer saved as tied to the embedding (transformers >= 5): untie it into logits_dense.
        tensors["lm_head.weight"] = tensors["shared.weight"]
    # Copies of the shared embedding (and, when tied, of the output layer) that some exports write out.
    redundant = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}
    if config.logits_via_embedding:
        redundant.add("lm_head.weight")
    name_map = hf_name_map(config)
    unexpected = sorted(set(tensors) - set(name_map) - redundant)
    if unexpected:
        raise CheckpointImportError(f"{path}: tensors with no place in the T5 tree: {unexpected[:5]}")
    params = params_from_hf_tensors(tensors=tensors, name_map=name_map, source=path)
    check_params(config=config, params=params, source=path)
    return config, params


def _read_tensorstore(*, spec: dict[str, Any], checkpoint_dir: str, name: str) -> np.ndarray:
    spec = json.loads(json.dumps(spec))
    # Paths in T5X checkpoints are relative to the checkpoint folder; gcs/gfile drivers become local files.
    kvstore = spec.get("kvstore")
    if isinstance(kvstore, dict):
        spec["kvstore"] = {"driver": "file", "path": os.path.join(checkpoint_dir, kvstore["path"])}
    elif "path" in spec:
        spec["kvstore"] = {"driver": "file", "path": os.path.join(checkpoint_dir, spec.pop("path"))}
    else:
        raise CheckpointImportError(f"{checkpoint_dir}: TensorStore spec of {name} has no path: {spec}")
    try:
        array = ts.open(spec, open=True).result().read().result()
    except Exception as err:  # TensorStore raises plain ValueErrors with its own messages.
        raise CheckpointImportError(f"{checkpoint_dir}: cannot read {name} ({spec['kvstore']['path']}): {err}") from err
    return np.asarray(array)


def _t5x_contents(path: str) -> tuple[str, dict[str, Any]]:
    """(the `checkpoint` file, its train state {'target': params, 'state': {'step', 'param_states'}})."""
    checkpoint_file = os.path.join(path, "checkpoint") if os.path.isdir(path) else path
    if not os.path.isfile(checkpoint_file):
        raise CheckpointImportError(f"{path}: no T5X `checkpoint` msgpack file")
    with open(checkpoint_file, "rb") as f:
        contents = serialization.msgpack_restore(f.read())
    # Version 0 files hold the optimizer state at the top; later versions nest it under 'optimizer'.
    state = contents["optimizer"] if contents.get("version", 0) else contents
    if "target" not in state:
        raise CheckpointImportError(f"{checkpoint_file}: no 'target' parameters (keys: {sorted(state)})")
    return checkpoint_file, state


def _read_arrays(*, tree: Mapping[str, Any], checkpoint_file: str, prefix: str) -> dict[tuple[str, ...], np.ndarray]:
    """Flat {path: array} of a T5X subtree whose leaves are TensorStore specs or inline arrays (None is skipped)."""
    flat = traverse_util.flatten_dict(dict(tree), is_leaf=lambda _, v: isinstance(v, dict) and "driver" in v)
    arrays = {}
    for key, leaf in flat.items():
        if leaf is None:
            continue
        if isinstance(leaf, dict):
            leaf = _read_tensorstore(spec=leaf, checkpoint_dir=os.path.dirname(checkpoint_file),
                                     name=f"{prefix}/{'/'.join(key)}")
        arrays[key] = np.asarray(leaf)
    return arrays


def load_t5x(*, path: str, config: T5Config) -> dict[str, Any]:
    """The `target` parameters of a local T5X checkpoint folder (or its `checkpoint` file), checked against
    `config`."""
    checkpoint_file, state = _t5x_contents(path)
    flat = _read_arrays(tree=state["target"], checkpoint_file=checkpoint_file, prefix="target")
    params = traverse_util.unflatten_dict({key: value.astype(np.float32) for key, value in flat.items()})
    check_params(config=config, params=params, source=checkpoint_file)
    return params


ADAFACTOR_STATISTICS = ("v_row", "v_col", "v", "m")


@dataclasses.dataclass(frozen=True)
class T5XOptimizerState:
    """What a T5X checkpoint holds besides the parameters: the step and Adafactor's per-parameter statistics.

    param_states: '/'-joined parameter path -> {'v_row', 'v_col', 'v', 'm'} float32 arrays (T5X's
    `state/param_states/<path>/<name>`); empty when the checkpoint holds the step only.
    """

    step: int
    param_states: dict[str, dict[str, np.ndarray]]
    source: str


def load_t5x_optimizer_state(*, path: str) -> T5XOptimizerState:
    """The step (`state/step`) and Adafactor statistics (`state/param_states`) of a local T5X checkpoint."""
    checkpoint_file, state = _t5x_contents(path)
    optimizer_state = state.get("state") or {}
    if "step" not in optimizer_state:
        raise CheckpointImportError(f"{checkpoint_file}: no 'state/step' (keys of 'state': {sorted(optimizer_state)})")
    step = int(np.asarray(optimizer_state["step"]))
    param_states: dict[str, dict[str, np.ndarray]] = {}
    flat = _read_arrays(tree=optimizer_state.get("param_states") or {}, checkpoint_file=checkpoint_file,
                        prefix="state/param_states")
    for key, value in flat.items():
        if key[-1] not in ADAFACTOR_STATISTICS:
            raise CheckpointImportError(f"{checkpoint_file}: state/param_states/{'/'.join(key)} is not an Adafactor "
                                        f"statistic ({', '.join(ADAFACTOR_STATISTICS)})")
        param_states.setdefault("/".join(key[:-1]), {})[key[-1]] = value.astype(np.float32)
    return T5XOptimizerState(step=step, param_states=param_states, source=checkpoint_file)


CHECKPOINT_FORMATS = ("hf", "t5x")


def initial_params(*, path: str | None, checkpoint_format: str, config: T5Config | None = None
                   ) -> dict[str, Any] | None:
    """The parameters a fine-tuning run starts from (gin: INITIAL_CHECKPOINT_PATH), or None to start from scratch.

    `config` (bound to MODEL_CONFIG by the model gins) must describe the checkpoint's shapes.
    """
    if path is None:
        return None
    if config is None:
        raise CheckpointImportError(f"{path}: importing a checkpoint needs the model config (MODEL_CONFIG)")
    if checkpoint_format not in CHECKPOINT_FORMATS:
        raise CheckpointImportError(f"checkpoint_format must be one of {CHECKPOINT_FORMATS}, got {checkpoint_format!r}")
    if checkpoint_format == "t5x":
        return load_t5x(path=path, config=config)
    _, params = load_hf_t5(path=path, dtype=config.dtype)
    check_params(config=config, params=params, source=path)
    return params


def initial_optimizer_state(*, path: str | None, checkpoint_format: str) -> T5XOptimizerState | None:
    """The step and optimizer statistics a fine-tuning run continues from (gin: INITIAL_CHECKPOINT_PATH).

    A T5X checkpoint has them, so TRAIN_STEPS counts its steps, as in T5X; a Hugging Face checkpoint has neither
    (None: training starts at step 0 with fresh Adafactor statistics).
    """
    if path is None or checkpoint_format == "hf":
        return None
    if checkpoint_format not in CHECKPOINT_FORMATS:
        raise CheckpointImportError(f"checkpoint_format must be one of {CHECKPOINT_FORMATS}, got {checkpoint_format!r}")
    return load_t5x_optimizer_state(path=path)
