"""Reads the layout of a saved sentence-transformers model folder (modules.json and the per-module configs).

Both the MiniLM and the GTR encoders are published in this format: a transformer module at the root, then
pooling, an optional dense projection and normalisation in numbered sub-folders. Only what this package implements
is accepted (one transformer, mean pooling, bias-free identity dense layers, normalisation); anything else is
rejected here, naming the file, rather than encoded differently from the reference. The encoders always
L2-normalise their output (retrieval scores are cosines), so a Normalize module is accepted and implied.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np

_IDENTITY_ACTIVATIONS = ("torch.nn.modules.linear.Identity", "torch.nn.Identity", "Identity")


@dataclasses.dataclass(frozen=True)
class DenseLayer:
    """A sentence-transformers Dense module: y = x @ kernel (+ bias); activation must be the identity."""

    kernel: np.ndarray  # [in_features, out_features]
    bias: np.ndarray | None


@dataclasses.dataclass(frozen=True)
class SentenceTransformerLayout:
    """What the modules of a sentence-transformers folder ask for, in the order they run."""

    path: str
    max_seq_length: int | None
    do_lower_case: bool
    dense_layers: tuple[DenseLayer, ...]


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: missing (expected in a sentence-transformers model folder)") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None


def _kind(module_type: str) -> str:
    """`sentence_transformers.models.Pooling` (v2) and `...modules.pooling.Pooling` (v5+) both name Pooling."""
    return module_type.rsplit(".", 1)[-1]


def _check_mean_pooling(path: str) -> None:
    config_file = os.path.join(path, "config.json")
    config = _read_json(config_file)
    if "pooling_mode" in config:
        modes = [config["pooling_mode"]] if isinstance(config["pooling_mode"], str) else list(config["pooling_mode"])
    else:
        modes = [k[len("pooling_mode_"):-len("_tokens")] if k.endswith("_tokens") else k[len("pooling_mode_"):]
                 for k, v in config.items() if k.startswith("pooling_mode_") and v]
    if modes != ["mean"]:
        raise ValueError(f"{config_file}: only mean pooling is implemented, got pooling modes {modes}")
    if config.get("include_prompt", True) is False:
        raise ValueError(f"{config_file}: include_prompt=false is not implemented")


def _read_dense(path: str) -> DenseLayer:
    config_file = os.path.join(path, "config.json")
    config = _read_json(config_file)
    activation = config.get("activation_function", "torch.nn.modules.linear.Identity")
    if activation not in _IDENTITY_ACTIVATIONS:
        raise ValueError(f"{config_file}: only an identity activation is implemented, got {activation!r}")
    weights = _read_dense_weights(path)
    if "linear.weight" not in weights:
        raise KeyError(f"{path}: dense weights have no 'linear.weight' (found {sorted(weights)})")
    weight = np.asarray(weights["linear.weight"], dtype=np.float32)
    expected = (int(config["out_features"]), int(config["in_features"]))
    if weight.shape != expected:
        raise ValueError(f"{path}: linear.weight has shape {weight.shape}, config says {expected}")
    bias = None
    if config.get("bias", True):
        if "linear.bias" not in weights:
            raise KeyError(f"{path}: config says bias=true but there is no 'linear.bias'")
        bias = np.asarray(weights["linear.bias"], dtype=np.float32)
    return DenseLayer(kernel=weight.T.copy(), bias=bias)


def _read_dense_weights(path: str) -> dict[str, np.ndarray]:
    """Dense weights are safetensors in recent saves and a torch pickle in older ones (the published GTR)."""
    safetensors_file = os.path.join(path, "model.safetensors")
    if os.path.exists(safetensors_file):
        from safetensors.numpy import load_file

        return load_file(safetensors_file)
    torch_file = os.path.join(path, "pytorch_model.bin")
    if os.path.exists(torch_file):
        try:
            import torch
        except ImportError:
            raise ImportError(f"{torch_file}: reading a pytorch_model.bin needs torch; convert it to "
                              "model.safetensors or install torch") from None
        state = torch.load(torch_file, map_location="cpu", weights_only=True)
        return {k: v.float().numpy() for k, v in state.items()}
    raise FileNotFoundError(f"{path}: no model.safetensors or pytorch_model.bin for the Dense module")


def read_layout(*, path: str) -> SentenceTransformerLayout:
    """Parses modules.json and the configs of its modules."""
    modules = _read_json(os.path.join(path, "modules.json"))
    kinds = [_kind(m["type"]) for m in modules]
    if not kinds or kinds[0] != "Transformer" or kinds.count("Transformer") != 1:
        raise ValueError(f"{os.path.join(path, 'modules.json')}: expected one Transformer module first, got {kinds}")
    if modules[0].get("path", "") not in ("", "."):
        raise ValueError(f"{os.path.join(path, 'modules.json')}: the Transformer module must live at the folder root")
    dense_layers: list[DenseLayer] = []
    normalize = False
    pooled = False
    for module, kind in zip(modules[1:], kinds[1:]):
        module_path = os.path.join(path, module.get("path", ""))
        if kind == "Pooling" and not pooled:
            _check_mean_pooling(module_path)
            pooled = True
        elif kind == "Dense" and pooled and not normalize:
            dense_layers.append(_read_dense(module_path))
        elif kind == "Normalize" and pooled and not normalize:
            normalize = True
        else:
            raise ValueError(f"{os.path.join(path, 'modules.json')}: unsupported module order {kinds} "
                             "(implemented: Transformer, Pooling, Dense*, Normalize)")
    if not pooled:
        raise ValueError(f"{os.path.join(path, 'modules.json')}: no Pooling module")
    st_config_file = os.path.join(path, "sentence_bert_config.json")
    st_config = _read_json(st_config_file) if os.path.exists(st_config_file) else {}
    return SentenceTransformerLayout(
        path=path,
        max_seq_length=_max_seq_length(path=path, st_config=st_config),
        do_lower_case=bool(st_config.get("do_lower_case", False)),
        dense_layers=tuple(dense_layers),
    )


def _max_seq_length(*, path: str, st_config: dict[str, Any]) -> int | None:
    """sentence_bert_config.json's value (older saves), else the tokenizer's model_max_length (newer saves)."""
    if st_config.get("max_seq_length"):
        return int(st_config["max_seq_length"])
    tokenizer_config_file = os.path.join(path, "tokenizer_config.json")
    if os.path.exists(tokenizer_config_file):
        model_max_length = _read_json(tokenizer_config_file).get("model_max_length")
        if isinstance(model_max_length, int) and 0 < model_max_length < 1_000_000:
            return model_max_length
    return None
