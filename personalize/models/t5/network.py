"""The T5 encoder-decoder (T5 1.0 and 1.1 / Flan-T5), with T5X's checkpoint-stable module names.

Token conventions: id 0 is padding (masked out of attention) and also the decoder's start token (inputs are the
targets shifted right); id 1 is EOS. Packed examples carry segment ids (attention stays inside a segment) and
positions that restart at 0 in every segment.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from personalize.models.t5.config import REMAT_POLICIES, T5Config
from personalize.models.t5.layers import (
    Dense,
    Embed,
    MlpBlock,
    MultiHeadAttention,
    RelativePositionBiases,
    RmsNorm,
    arange_positions,
    dropout,
    mask_to_bias,
)


def _pair_mask(query_valid: jax.Array, key_valid: jax.Array) -> jax.Array:
    # [batch, q], [batch, k] -> [batch, 1, q, k]
    return query_valid[:, None, :, None] & key_valid[:, None, None, :]


def _same_segment(query_segments: jax.Array, key_segments: jax.Array) -> jax.Array:
    # [batch, q], [batch, k] -> [batch, 1, q, k]
    return query_segments[:, None, :, None] == key_segments[:, None, None, :]


class EncoderLayer(nn.Module):
    """Pre-norm self-attention then pre-norm MLP, each added back to the residual stream after dropout.

    The arguments are positional so that `_stack_layer` can mark the Python ones static for `jax.checkpoint`.
    """

    config: T5Config

    @nn.compact
    def __call__(self, x: jax.Array, mask_bias: jax.Array, position_bias: jax.Array,
                 enable_dropout: bool) -> jax.Array:
        cfg = self.config
        norm = dict(epsilon=cfg.layer_norm_epsilon, dtype=cfg.compute_dtype)
        # [batch, 1, length, length] + [1, heads, length, length]
        bias = mask_bias + position_bias
        # [batch, length, embed] -> [batch, length, embed]
        h = RmsNorm(**norm, name="pre_attention_layer_norm")(x)
        h = MultiHeadAttention(cfg, name="attention")(h, h, bias, enable_dropout=enable_dropout)
        x = x + dropout(h, rate=cfg.dropout_rate, enable=enable_dropout)
        # [batch, length, embed] -> [batch, length, embed]
        h = RmsNorm(**norm, name="pre_mlp_layer_norm")(x)
        h = MlpBlock(cfg, name="mlp")(h, enable_dropout=enable_dropout)
        x = x + dropout(h, rate=cfg.dropout_rate, enable=enable_dropout)
        return nn.with_logical_constraint(x, ("batch", "length", "embed"))


class DecoderLayer(nn.Module):
    """Causal self-attention (cached when decoding), attention over the encoder output, then the MLP.

    The arguments are positional so that `_stack_layer` can mark the Python ones static for `jax.checkpoint`.
    """

    config: T5Config

    @nn.compact
    def __call__(self, x: jax.Array, encoded: jax.Array, self_mask_bias: jax.Array, position_bias: jax.Array,
                 cross_bias: jax.Array, enable_dropout: bool, decode: bool, decode_index: jax.Array | None,
                 max_decode_length: int | None) -> jax.Array:
        cfg = self.config
        norm = dict(epsilon=cfg.layer_norm_epsilon, dtype=cfg.compute_dtype)
        # [batch, 1, q, k] + [1, heads, q, k]
        self_bias = self_mask_bias + position_bias
        # [batch, length, embed] -> [batch, length, embed]
        h = RmsNorm(**norm, name="pre_self_attention_layer_norm")(x)
        h = MultiHeadAttention(cfg, cache_mode="append", name="self_attention")(
            h, h, self_bias, enable_dropout=enable_dropout, decode=decode, decode_index=decode_index,
            max_decode_length=max_decode_length)
        x = x + dropout(h, rate=cfg.dropout_rate, enable=enable_dropout)
        # [batch, length, embed] x [batch, encoder_length, embed] -> [batch, length, embed]
        h = RmsNorm(**norm, name="pre_cross_attention_layer_norm")(x)
        h = MultiHeadAttention(cfg, cache_mode="static", name="encoder_decoder_attention")(
            h, encoded, cross_bias, enable_dropout=enable_dropout, decode=decode)
        x = x + dropout(h, rate=cfg.dropout_rate, enable=enable_dropout)
        # [batch, length, embed] -> [batch, length, embed]
        h = RmsNorm(**norm, name="pre_mlp_layer_norm")(x)
        h = MlpBlock(cfg, name="mlp")(h, enable_dropout=enable_dropout)
        x = x + dropout(h, rate=cfg.dropout_rate, enable=enable_dropout)
        return nn.with_logical_constraint(x, ("batch", "length", "embed"))


# The positions of the Python (not array) arguments of each layer's __call__, counting `self` as 0:
# enable_dropout; and for the decoder also decode and max_decode_length (decode_index is an array or None).
_STATIC_ARGNUMS = {EncoderLayer: (4,), DecoderLayer: (6, 7, 9)}


@functools.lru_cache(maxsize=None)
def _stack_layer(layer: type[nn.Module], remat_policy: str) -> type[nn.Module]:
    """The layer class a stack instantiates: itself, or under T5Config.remat_policy a lifted `jax.checkpoint` of it.

    As flaxformer's `layer_remat`, the whole layer is one checkpoint. `nn.remat` keeps the module's scope, so
    parameter paths (`layers_0/attention/query/kernel`) and their logical-axis boxes are those of the plain layer.
    prevent_cse stays True (jax's default; flaxformer passes False, which suits scanned layers): our layers are
    unrolled, and with False XLA merges the recomputation back into the forward pass (measured on the compile
    test's v5e-4 program: temporaries and FLOPs then equal 'none''s, 491 MB instead of 128 MB). Without
    differentiation (evaluation, decoding with the cache) a checkpoint is inlined, so it costs nothing there.
    """
    if remat_policy == "none":
        return layer
    return nn.remat(layer, policy=REMAT_POLICIES[remat_policy], static_argnums=_STATIC_ARGNUMS[layer])


class Encoder(nn.Module):
    """Embeds the input and runs the bidirectional stack; the relative position biases are shared by all layers.

    The relative biases come from the row's offsets, [1, heads, q, k], and reach each layer apart from the
    [batch, 1, q, k] mask. In a packed row a segment's positions restart at 0, but a relative position (key minus
    query) is the same measured from the segment's start or the row's, and pairs across segments are masked, so
    the biases equal T5X's for every pair that is attended to. Both matter for memory: a [batch, heads, q, k] sum
    made once and passed to every layer has a cotangent of that size per layer in the backward pass, all kept until
    they are summed (at T5-11B's 1,024-piece inputs, 512 MiB a layer on each chip of v4-128 with a model axis of 8).
    """

    config: T5Config
    shared_embedding: nn.Module

    @nn.compact
    def __call__(self, encoder_input_tokens: jax.Array, encoder_segment_ids: jax.Array | None = None,
                 encoder_positions: jax.Array | None = None, *, enable_dropout: bool) -> jax.Array:
        cfg = self.config
        valid = encoder_input_tokens > 0
        mask = _pair_mask(valid, valid)
        if encoder_segment_ids is not None:
            mask = mask & _same_segment(encoder_segment_ids, encoder_segment_ids)
        del encoder_positions  # relative biases depend only on in-segment offsets (see the class docstring)
        positions = arange_positions(encoder_input_tokens.shape[1])
        relpos = RelativePositionBiases(num_buckets=cfg.relative_attention_num_buckets,
                                        max_distance=cfg.relative_attention_max_distance,
                                        num_heads=cfg.num_heads, dtype=cfg.compute_dtype, name="relpos_bias")
        mask_bias = mask_to_bias(mask)
        # [1, heads, length, length]
        position_bias = relpos(positions, positions, bidirectional=True)

        # [batch, length] -> [batch, length, embed]
        x = self.shared_embedding(encoder_input_tokens)
        x = dropout(x, rate=cfg.dropout_rate, enable=enable_dropout)
        x = nn.with_logical_constraint(x, ("batch", "length", "embed"))
        layer = _stack_layer(EncoderLayer, cfg.remat_policy)
        for index in range(cfg.num_encoder_layers):
            x = layer(cfg, name=f"layers_{index}")(x, mask_bias, position_bias, enable_dropout)
        x = RmsNorm(epsilon=cfg.layer_norm_epsilon, dtype=cfg.compute_dtype, name="encoder_norm")(x)
        # The one dropout that t5x/examples/t5/network.py does not broadcast over the sequence (flaxformer does).
        return dropout(x, rate=cfg.dropout_rate, enable=enable_dropout, broadcast_dims=())


class Decoder(nn.Module):
    """The causal stack over the shifted targets, attending to the encoder output; returns float32 logits.

    With decode=True it consumes one position per call and keeps keys, values, the projected encoder output and
    the current position in the 'cache' collection. The first decode call (the prefill, with a mutable empty
    'cache') only creates that cache, sized max_decode_length; its logits are not meaningful.
    """

    config: T5Config
    shared_embedding: nn.Module

    @nn.compact
    def __call__(self, encoded: jax.Array, encoder_input_tokens: jax.Array, decoder_input_tokens: jax.Array,
                 decoder_target_tokens: jax.Array | None = None, encoder_segment_ids: jax.Array | None = None,
                 decoder_segment_ids: jax.Array | None = None, decoder_positions: jax.Array | None = None, *,
                 enable_dropout: bool, decode: bool, max_decode_length: int | None) -> jax.Array:
        cfg = self.config
        if decode and max_decode_length is None:
            raise ValueError("Decoder: decode=True needs max_decode_length (the length of the key/value cache)")
        del decoder_positions  # relative biases depend only on in-segment offsets (see Encoder's docstring)
        relpos = RelativePositionBiases(num_buckets=cfg.relative_attention_num_buckets,
                                        max_distance=cfg.relative_attention_max_distance,
                                        num_heads=cfg.num_heads, dtype=cfg.compute_dtype, name="relpos_bias")
        encoder_valid = encoder_input_tokens > 0
        decode_index = None
        stepping = decode and self.has_variable("cache", "decode_index")
        if decode:
            index_var = self.variable("cache", "decode_index", lambda: jnp.zeros((), jnp.int32))
        if stepping:
            # One new position per call: it sees the cache up to and including itself.
            decode_index = index_var.value
            index_var.value = decode_index + 1
            key_positions = arange_positions(max_decode_length)
            self_mask = (key_positions <= decode_index)[:, None, None, :]
            position_bias = relpos(decode_index.reshape(1, 1), key_positions, bidirectional=False)
            cross_mask = encoder_valid[:, None, None, :]
        else:
            length = decoder_input_tokens.shape[1]
            index = arange_positions(length)
            self_mask = (index[:, :, None] >= index[:, None, :])[:, None]
            cross_mask = encoder_valid[:, None, None, :]
            if decoder_target_tokens is not None:
                target_valid = decoder_target_tokens > 0
                self_mask = self_mask & _pair_mask(target_valid, target_valid)
                cross_mask = cross_mask & target_valid[:, None, :, None]
            if decoder_segment_ids is not None:
                self_mask = self_mask & _same_segment(decoder_segment_ids, decoder_segment_ids)
                if encoder_segment_ids is None:
                    raise ValueError("Decoder: decoder_segment_ids given without encoder_segment_ids")
                cross_mask = cross_mask & _same_segment(decoder_segment_ids, encoder_segment_ids)
            # The row's offsets, as in the encoder (packed segments' own positions give the same differences).
            position_bias = relpos(index, index, bidirectional=False)
        self_mask_bias = mask_to_bias(self_mask)
        cross_bias = mask_to_bias(cross_mask)

        # [batch, length] -> [batch, length, embed]
        y = self.shared_embedding(decoder_input_tokens)
        y = dropout(y, rate=cfg.dropout_rate, enable=enable_dropout)
        y = nn.with_logical_constraint(y, ("batch", "length", "embed"))
        layer = _stack_layer(DecoderLayer, cfg.remat_policy)
        for index in range(cfg.num_decoder_layers):
            y = layer(cfg, name=f"layers_{index}")(y, encoded, self_mask_bias, position_bias, cross_bias,
                                                   enable_dropout, decode, decode_index, max_decode_length)
        y = RmsNorm(epsilon=cfg.layer_norm_epsilon, dtype=cfg.compute_dtype, name="decoder_norm")(y)
        y = dropout(y, rate=cfg.dropout_rate, enable=enable_dropout)

        # [batch, length, embed] -> [batch, length, vocab] in float32
        if cfg.logits_via_embedding:
            # T5 1.0 ties the output layer to the embedding and rescales by 1/sqrt(emb_dim).
            logits = self.shared_embedding.attend(y) / jnp.sqrt(jnp.float32(cfg.emb_dim))
        else:
            # In float32 whatever the compute dtype, as T5X (stability of the softmax over the vocabulary).
            logits = Dense(features=cfg.vocab_size, kernel_axes=("embed", "vocab"), dtype=jnp.float32,
                           name="logits_dense")(y)
        return nn.with_logical_constraint(logits, ("batch", "length", "vocab"))


class Transformer(nn.Module):
    """T5: `encode`, `decode` and their composition `__call__`, sharing one token embedding."""

    config: T5Config

    def setup(self):
        cfg = self.config
        self.token_embedder = Embed(num_embeddings=cfg.vocab_size, features=cfg.emb_dim, dtype=cfg.compute_dtype)
        self.encoder = Encoder(cfg, shared_embedding=self.token_embedder)
        self.decoder = Decoder(cfg, shared_embedding=self.token_embedder)

    def encode(self, encoder_input_tokens: jax.Array, encoder_segment_ids: jax.Array | None = None,
               encoder_positions: jax.Array | None = None, *, enable_dropout: bool = True) -> jax.Array:
        """[batch, length] token ids -> [batch, length, embed] encoder output."""
        return self.encoder(encoder_input_tokens, encoder_segment_ids, encoder_positions,
                            enable_dropout=enable_dropout)

    def decode(self, encoded: jax.Array, encoder_input_tokens: jax.Array, decoder_input_tokens: jax.Array,
               decoder_target_tokens: jax.Array | None = None, encoder_segment_ids: jax.Array | None = None,
               decoder_segment_ids: jax.Array | None = None, decoder_positions: jax.Array | None = None, *,
               enable_dropout: bool = True, decode: bool = False, max_decode_length: int | None = None) -> jax.Array:
        """Decoder logits [batch, length, vocab] (float32) given the encoder output."""
        return self.decoder(encoded, encoder_input_tokens, decoder_input_tokens, decoder_target_tokens,
                            encoder_segment_ids, decoder_segment_ids, decoder_positions,
                            enable_dropout=enable_dropout, decode=decode, max_decode_length=max_decode_length)

    def __call__(self, encoder_input_tokens: jax.Array, decoder_input_tokens: jax.Array,
                 decoder_target_tokens: jax.Array | None = None, encoder_segment_ids: jax.Array | None = None,
                 decoder_segment_ids: jax.Array | None = None, encoder_positions: jax.Array | None = None,
                 decoder_positions: jax.Array | None = None, *, enable_dropout: bool = True, decode: bool = False,
                 max_decode_length: int | None = None) -> jax.Array:
        """Teacher-forced logits [batch, decoder_length, vocab] (float32)."""
        encoded = self.encode(encoder_input_tokens, encoder_segment_ids, encoder_positions,
                              enable_dropout=enable_dropout)
        return self.decode(encoded, encoder_input_tokens, decoder_input_tokens, decoder_target_tokens,
                           encoder_segment_ids, decoder_segment_ids, decoder_positions,
                           enable_dropout=enable_dropout, decode=decode, max_decode_length=max_decode_length)
