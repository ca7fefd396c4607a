"""Loads a sentence-transformers GTR folder (gtr-t5-base/large/xl/xxl) as a `SentenceModel`.

GTR is the paper's dense retriever (GTR-Large): a T5 encoder, mean pooling over real tokens, a bias-free dense
projection and L2 normalisation. The encoder is the project's own T5 (`personalize.models.t5`), run through
`Transformer.encode` only, with weights read by that package's Hugging Face importer; this file adds only the
sentence-transformers head and the encoder-only checkpoint (a T5EncoderModel has no decoder tensors).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

import jax

from personalize.models.t5 import checkpoint_import
from personalize.models.t5.config import T5Config
from personalize.models.t5.network import Transformer
from personalize.retrieval.dense import pooling
from personalize.retrieval.dense.sentence_model import SentenceModel, fingerprint
from personalize.retrieval.dense.sentence_transformers_folder import DenseLayer, read_layout
from personalize.retrieval.dense.tokenizer import load_tokenizer

# T5 has relative positions and no length limit of its own; sentence-transformers' GTR folders say 512.
_DEFAULT_MAX_SEQ_LENGTH = 512


def load_t5_encoder_params(*, path: str, config: T5Config) -> dict[str, Any]:
    """The `token_embedder` and `encoder` subtrees of our T5 from a T5EncoderModel's model.safetensors.

    Uses the T5 importer's name map, keeping only its encoder entries; every encoder tensor must be present and
    no tensor may be left over, as in the full importer.
    """
    weights_file = os.path.join(path, "model.safetensors")
    if not os.path.exists(weights_file):
        raise FileNotFoundError(f"{weights_file}: missing (only safetensors T5 encoder checkpoints are read)")
    tensors = checkpoint_import.read_safetensors(path=weights_file)
    if "shared.weight" not in tensors and "encoder.embed_tokens.weight" in tensors:
        tensors["shared.weight"] = tensors["encoder.embed_tokens.weight"]
    name_map = {hf: mapping for hf, mapping in checkpoint_import.hf_name_map(config).items()
                if mapping[0].split("/")[0] in ("token_embedder", "encoder")}
    unexpected = sorted(set(tensors) - set(name_map) - {"encoder.embed_tokens.weight"})
    if unexpected:
        raise ValueError(f"{weights_file}: tensors with no place in a T5 encoder: {unexpected[:5]}")
    return checkpoint_import.params_from_hf_tensors(tensors=tensors, name_map=name_map, source=weights_file)


def _embed(params, token_ids: jax.Array, mask: jax.Array, *, config: T5Config,
           dense_layers: tuple[DenseLayer, ...]) -> jax.Array:
    # The T5 encoder masks padding itself (id 0); `mask` marks the same positions for pooling.
    hidden = Transformer(config).apply({"params": params}, token_ids, enable_dropout=False,
                                       method=Transformer.encode)
    pooled = pooling.mean_pool(hidden=hidden, mask=mask)
    return pooling.l2_normalize(pooling.project(pooled=pooled, dense_layers=dense_layers))


def load_gtr(*, path: str, dtype: str = "float32") -> SentenceModel:
    """Reads a local sentence-transformers GTR folder; nothing is downloaded."""
    config_file = os.path.join(path, "config.json")
    if not os.path.exists(config_file):
        raise FileNotFoundError(f"{config_file}: missing (expected a sentence-transformers GTR folder)")
    with open(config_file, encoding="utf-8") as f:
        hf_config = json.load(f)
    if hf_config.get("model_type") != "t5":
        raise ValueError(f"{config_file}: expected model_type 't5', got {hf_config.get('model_type')!r}")
    config = checkpoint_import.config_from_hf(hf_config=hf_config, dtype=dtype, source=config_file)
    layout = read_layout(path=path)
    max_seq_length = layout.max_seq_length or _DEFAULT_MAX_SEQ_LENGTH
    tokenizer = load_tokenizer(path=path, max_seq_length=max_seq_length, do_lower_case=layout.do_lower_case)
    dim = layout.dense_layers[-1].kernel.shape[1] if layout.dense_layers else config.emb_dim
    name = "gtr-" + fingerprint(
        path=path, files=("config.json", "model.safetensors", "modules.json", "tokenizer.json", "spiece.model"),
        settings=f"max_seq_length={max_seq_length};dtype={dtype};lower={layout.do_lower_case}",
        arrays=[a for layer in layout.dense_layers for a in (layer.kernel, layer.bias) if a is not None])
    return SentenceModel(
        name=name,
        tokenizer=tokenizer,
        embed_fn=functools.partial(_embed, config=config, dense_layers=layout.dense_layers),
        params=load_t5_encoder_params(path=path, config=config),
        dim=int(dim),
    )
