"""Export our T5 parameters to the two layouts `checkpoint_import` reads, so a result can be served or shared.

- Hugging Face: a folder with config.json and model.safetensors that `transformers`'
  T5ForConditionalGeneration.from_pretrained loads (T5 1.0: a tied, rescaled output layer; T5 1.1: gated-GELU and
  an output layer of its own, saved as lm_head.weight with tie_word_embeddings=false).
- T5X: a `checkpoint_<step>` folder holding a `checkpoint` msgpack file (version 3: {'optimizer': {'target',
  'state': {'step'}}}) whose leaves are TensorStore specs of gzip zarr arrays stored beside it under
  `target.<path>`, as T5X writes them. Optimizer statistics are not exported (T5X restores without them).
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any, Mapping

import numpy as np
from flax import serialization, traverse_util

from personalize.models.t5.checkpoint_import import check_params, hf_name_map
from personalize.models.t5.config import T5Config

EXPORT_FORMATS = ("hf", "t5x")
_HF_PROJECTIONS = {("relu",): "relu", ("gelu", "linear"): "gated-gelu", ("relu", "linear"): "gated-relu"}


def hf_config(*, config: T5Config) -> dict[str, Any]:
    """The config.json of `config` for transformers' T5 (fails for activations transformers' T5 cannot express)."""
    projection = _HF_PROJECTIONS.get(tuple(config.mlp_activations))
    if projection is None:
        raise ValueError(f"mlp_activations {config.mlp_activations} have no Hugging Face T5 feed_forward_proj "
                         f"(supported: {sorted(map(list, _HF_PROJECTIONS))})")
    return {
        "architectures": ["T5ForConditionalGeneration"],
        "model_type": "t5",
        "vocab_size": config.vocab_size,
        "d_model": config.emb_dim,
        "d_kv": config.head_dim,
        "d_ff": config.mlp_dim,
        "num_layers": config.num_encoder_layers,
        "num_decoder_layers": config.num_decoder_layers,
        "num_heads": config.num_heads,
        "relative_attention_num_buckets": config.relative_attention_num_buckets,
        "relative_attention_max_distance": config.relative_attention_max_distance,
        "dropout_rate": config.dropout_rate,
        "layer_norm_epsilon": config.layer_norm_epsilon,
        "feed_forward_proj": projection,
        "tie_word_embeddings": bool(config.logits_via_embedding),
        "is_encoder_decoder": True,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "decoder_start_token_id": 0,
    }


def _replace_folder(*, staging: str, output_dir: str) -> None:
    """Moves the finished `staging` folder to `output_dir`, so a half-written export never has the final name."""
    if os.path.exists(output_dir):
        shutil.rmtree(output_dir)
    os.replace(staging, output_dir)


def export_hf(*, params: Mapping[str, Any], config: T5Config, output_dir: str) -> str:
    """Writes output_dir/config.json and output_dir/model.safetensors (float32, as parameters are stored)."""
    from safetensors.numpy import save_file

    check_params(config=config, params=params, source="the exported parameters")
    flat = {"/".join(k): np.asarray(v, np.float32) for k, v in traverse_util.flatten_dict(dict(params)).items()}
    tensors = {}
    for hf_name, (ours, transpose) in hf_name_map(config).items():
        array = flat[ours].T if transpose else flat[ours]
        tensors[hf_name] = np.ascontiguousarray(array)
    staging = f"{output_dir}.partial-{os.getpid()}"
    os.makedirs(staging, exist_ok=True)
    save_file(tensors, os.path.join(staging, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(staging, "config.json"), "w", encoding="utf-8") as handle:
        json.dump(hf_config(config=config), handle, indent=2)
    _replace_folder(staging=staging, output_dir=output_dir)
    return output_dir


def export_t5x(*, params: Mapping[str, Any], config: T5Config, output_dir: str, step: int) -> str:
    """Writes a T5X checkpoint folder (`checkpoint` msgpack + one zarr array per parameter, float32)."""
    import tensorstore as ts

    check_params(config=config, params=params, source="the exported parameters")
    staging = f"{output_dir}.partial-{os.getpid()}"
    os.makedirs(staging, exist_ok=True)
    target = {}
    for key, value in traverse_util.flatten_dict(dict(params)).items():
        array = np.asarray(value, np.float32)
        name = "target." + ".".join(key)
        metadata = {"shape": list(array.shape), "chunks": list(array.shape), "dtype": "<f4",
                    "compressor": {"id": "gzip", "level": 1}}
        spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": name}, "metadata": metadata}
        store = ts.open({**spec, "kvstore": {"driver": "file", "path": os.path.join(staging, name)}},
                        create=True, open=True).result()
        store.write(array).result()
        target[key] = spec
    contents = {"version": 3, "optimizer": {"target": traverse_util.unflatten_dict(target),
                                            "state": {"step": np.asarray(step, np.int32), "param_states": {}}}}
    with open(os.path.join(staging, "checkpoint"), "wb") as handle:
        handle.write(serialization.msgpack_serialize(contents))
    _replace_folder(staging=staging, output_dir=output_dir)
    return output_dir


def export_checkpoint(*, params: Mapping[str, Any], config: T5Config, output_dir: str, checkpoint_format: str,
                      step: int = 0) -> str:
    """Writes `params` in `checkpoint_format` ('hf' or 't5x') to output_dir; returns output_dir."""
    if checkpoint_format == "hf":
        return export_hf(params=params, config=config, output_dir=output_dir)
    if checkpoint_format == "t5x":
        return export_t5x(params=params, config=config, output_dir=output_dir, step=step)
    raise ValueError(f"checkpoint_format must be one of {EXPORT_FORMATS}, got {checkpoint_format!r}")


def export_model_dir(*, model_dir: str, output_dir: str, checkpoint_format: str, model_config: T5Config,
                     step: int | None = None, vocabulary_path: str | None = None) -> dict[str, Any]:
    """Exports the params of MODEL_DIR/checkpoints/<step> (default: the latest) of a `personalize train`,
    experiment or pre-training run. `vocabulary_path`: the run's SentencePiece model, whose size (padded to a
    multiple of 128, as those runs pad it) replaces model_config.vocab_size; it is copied beside the export."""
    import dataclasses

    import jax
    from flax.core import meta

    from personalize.models.t5.network import Transformer
    from personalize.partitioning.partitioner import make_partitioner
    from personalize.training import checkpoints
    from personalize.training.evaluation import abstract_params
    from personalize.training.finetune import CHECKPOINT_DIR

    if vocabulary_path is not None:
        from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary

        rows = load_vocabulary(path=vocabulary_path).vocab_size
        model_config = dataclasses.replace(model_config, vocab_size=-(-rows // 128) * 128)
    directory = os.path.join(model_dir, CHECKPOINT_DIR)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{model_dir}: no {CHECKPOINT_DIR}/ folder (not a trained MODEL_DIR)")
    manager = checkpoints.open_manager(directory=directory, keep=None)
    try:
        abstract, _ = abstract_params(model=Transformer(model_config), task_feature_lengths={"inputs": 1, "targets": 1},
                                      partitioner=make_partitioner(num_partitions=1))
        params, step = checkpoints.restore_params(manager=manager, abstract_params=abstract, step=step)
    finally:
        manager.close()
    params = meta.unbox(jax.device_get(params))
    export_checkpoint(params=params, config=model_config, output_dir=output_dir, checkpoint_format=checkpoint_format,
                      step=step)
    if vocabulary_path is not None:
        shutil.copyfile(vocabulary_path, os.path.join(output_dir, "spm.model"))
    return {"step": step, "output_dir": output_dir, "checkpoint_format": checkpoint_format}
