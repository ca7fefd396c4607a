"""Hugging Face BertModel safetensors -> the parameter tree of `bert.BertEncoder`.

Kept apart from the network so the module names of bert.py stay ours; this file is the one place that knows
the Hugging Face names. Every tensor the encoder needs must be present and of the expected shape, and every
tensor of the checkpoint must be either used or a known leftover (pooler, position_ids): a silently ignored
weight would be a silently wrong retriever.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

import numpy as np
from safetensors.numpy import load_file

from personalize.retrieval.dense.bert import BertConfig

_UNUSED = re.compile(r"^(pooler\..*|embeddings\.position_ids)$")


def _strip_prefix(weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Checkpoints saved from BertForX carry a `bert.` prefix; a bare BertModel does not."""
    if any(k.startswith("bert.") for k in weights):
        return {k[len("bert."):]: v for k, v in weights.items() if k.startswith("bert.")}
    return dict(weights)


def bert_params_from_hf(*, weights: Mapping[str, np.ndarray], config: BertConfig, source: str = "<weights>"
                        ) -> dict[str, Any]:
    """Maps HF tensors (torch layout: Linear weights are [out, in]) onto our [in, ..., out] kernels."""
    remaining = _strip_prefix(weights)
    h, n, d = config.hidden_size, config.num_heads, config.head_dim

    def take(name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name not in remaining:
            raise KeyError(f"{source}: missing tensor {name!r}")
        value = np.asarray(remaining.pop(name), dtype=np.float32)
        if value.shape != shape:
            raise ValueError(f"{source}: tensor {name!r} has shape {value.shape}, expected {shape}")
        return value

    def norm(prefix: str) -> dict[str, np.ndarray]:
        return {"scale": take(f"{prefix}.weight", (h,)), "bias": take(f"{prefix}.bias", (h,))}

    params: dict[str, Any] = {
        "token_embedder": {"embedding": take("embeddings.word_embeddings.weight", (config.vocab_size, h))},
        "position_embedder": {"embedding": take("embeddings.position_embeddings.weight",
                                                (config.max_position_embeddings, h))},
        "segment_embedder": {"embedding": take("embeddings.token_type_embeddings.weight", (config.type_vocab_size, h))},
        "embedder_norm": norm("embeddings.LayerNorm"),
    }
    for i in range(config.num_layers):
        p = f"encoder.layer.{i}"
        attention = {
            name: {"kernel": take(f"{p}.attention.self.{name}.weight", (h, h)).T.reshape(h, n, d),
                   "bias": take(f"{p}.attention.self.{name}.bias", (h,)).reshape(n, d)}
            for name in ("query", "key", "value")
        }
        attention["out"] = {"kernel": take(f"{p}.attention.output.dense.weight", (h, h)).T.reshape(n, d, h),
                            "bias": take(f"{p}.attention.output.dense.bias", (h,))}
        params[f"layers_{i}"] = {
            "attention": attention,
            "attention_norm": norm(f"{p}.attention.output.LayerNorm"),
            "mlp": {
                "wi": {"kernel": take(f"{p}.intermediate.dense.weight", (config.intermediate_size, h)).T,
                       "bias": take(f"{p}.intermediate.dense.bias", (config.intermediate_size,))},
                "wo": {"kernel": take(f"{p}.output.dense.weight", (h, config.intermediate_size)).T,
                       "bias": take(f"{p}.output.dense.bias", (h,))},
            },
            "mlp_norm": norm(f"{p}.output.LayerNorm"),
        }
    unknown = sorted(k for k in remaining if not _UNUSED.match(k))
    if unknown:
        raise ValueError(f"{source}: tensors not used by the BERT encoder: {unknown[:5]}"
                         f"{' ...' if len(unknown) > 5 else ''}")
    return params


def load_bert_params(*, path: str, config: BertConfig) -> dict[str, Any]:
    """Reads `model.safetensors` of a BertModel folder."""
    weights_file = os.path.join(path, "model.safetensors")
    if not os.path.exists(weights_file):
        raise FileNotFoundError(f"{weights_file}: no model.safetensors (only safetensors BERT checkpoints are read)")
    return bert_params_from_hf(weights=load_file(weights_file), config=config, source=weights_file)
