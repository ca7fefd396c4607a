"""Shared fixtures: a tiny random BERT sentence model with a character tokenizer (fast, no files needed)."""

from __future__ import annotations

import functools
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from personalize.retrieval.dense import pooling
from personalize.retrieval.dense.bert import BertConfig, BertEncoder
from personalize.retrieval.dense.sentence_model import SentenceModel

TINY_BERT = BertConfig(vocab_size=64, hidden_size=16, num_layers=2, num_heads=2, intermediate_size=32,
                       max_position_embeddings=64)


class CharTokenizer:
    """[CLS]=1, one id per character (2..63), [SEP]=2; truncated to max_seq_length like the real tokenizers."""

    def __init__(self, max_seq_length: int):
        self.max_seq_length = max_seq_length

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [[1] + [3 + ord(c) % 61 for c in text][: self.max_seq_length - 2] + [2] for text in texts]


def _embed(params, token_ids, mask, *, config):
    hidden = BertEncoder(config).apply({"params": params}, token_ids, mask)
    return pooling.l2_normalize(pooling.mean_pool(hidden=hidden, mask=mask))


def _embed_packed(params, token_ids, text_ids, texts_per_row, *, config):
    hidden = BertEncoder(config).apply({"params": params}, token_ids, text_ids > 0, text_ids)
    return pooling.l2_normalize(pooling.mean_pool_texts(hidden=hidden, text_ids=text_ids,
                                                        texts_per_row=texts_per_row))


def make_tiny_model(max_seq_length: int = 16, packed: bool = False) -> SentenceModel:
    # Jitted: eager initialisation dispatches op by op and is many times slower on a busy CPU.
    init = jax.jit(BertEncoder(TINY_BERT).init)
    params = nn.unbox(init(jax.random.PRNGKey(0), jnp.ones((1, 4), jnp.int32), jnp.ones((1, 4), bool))["params"])
    return SentenceModel(name="tiny-bert", tokenizer=CharTokenizer(max_seq_length),
                         embed_fn=functools.partial(_embed, config=TINY_BERT), params=params, dim=16,
                         packed_embed_fn=functools.partial(_embed_packed, config=TINY_BERT) if packed else None)


@pytest.fixture(scope="session")
def tiny_bert_config() -> BertConfig:
    return TINY_BERT


@pytest.fixture(scope="session")
def tiny_model() -> SentenceModel:
    return make_tiny_model()


@pytest.fixture(scope="session")
def tiny_packed_model() -> SentenceModel:
    """The same weights, with the packed embedding function: DenseEncoder packs several texts per row."""
    return make_tiny_model(packed=True)
