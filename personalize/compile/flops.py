"""Analytic FLOPs of a T5 train step: 6 x parameters x tokens for each stack, plus attention.

An encoder-decoder is not one stack: encoder weights see the input tokens, decoder weights (and the output
layer) see the target tokens. Training is the forward pass (2 FLOPs per weight per token) and a backward pass
twice as costly; attention adds the query-key and attention-value products, which no weight counts. This is the
numerator of MFU (model FLOPs, without rematerialisation).
"""

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import jax

from personalize.models.t5.config import T5Config


@dataclasses.dataclass(frozen=True)
class ParameterCounts:
    encoder: int
    decoder: int  # without the output layer
    output_layer: int  # vocab x embed: the untied logits kernel, or the tied embedding used again
    total: int  # every parameter once


def parameter_counts(*, params: Any, config: T5Config) -> ParameterCounts:
    """Counts of an (abstract) unboxed param tree with the network's top-level names."""
    sizes = {
        "/".join(str(getattr(key, "key", key)) for key in path): math.prod(leaf.shape)
        for path, leaf in jax.tree_util.tree_leaves_with_path(params)
    }
    encoder = sum(size for name, size in sizes.items() if name.startswith("encoder/"))
    logits = sum(size for name, size in sizes.items() if name.startswith("decoder/logits_dense/"))
    decoder = sum(size for name, size in sizes.items() if name.startswith("decoder/")) - logits
    output_layer = config.vocab_size * config.emb_dim
    return ParameterCounts(encoder=encoder, decoder=decoder, output_layer=output_layer, total=sum(sizes.values()))


def attention_flops_forward(*, config: T5Config, inputs_length: int, targets_length: int) -> float:
    """Query-key and attention-value FLOPs of one example's forward pass, every layer."""
    width = config.num_heads * config.head_dim
    encoder = config.num_encoder_layers * 4 * inputs_length**2 * width
    decoder = config.num_decoder_layers * 4 * (targets_length**2 + targets_length * inputs_length) * width
    return float(encoder + decoder)


def train_step_flops(
    *, counts: ParameterCounts, config: T5Config, task_feature_lengths: Mapping[str, int], batch_size: int
) -> dict[str, float]:
    """{'weights': 6 N tokens per stack, 'attention': 3 x forward attention, 'total'} for one global batch."""
    inputs, targets = int(task_feature_lengths["inputs"]), int(task_feature_lengths["targets"])
    weights = 6.0 * batch_size * (counts.encoder * inputs + (counts.decoder + counts.output_layer) * targets)
    attention = 3.0 * batch_size * attention_flops_forward(config=config, inputs_length=inputs, targets_length=targets)
    return {"weights": weights, "attention": attention, "total": weights + attention}
