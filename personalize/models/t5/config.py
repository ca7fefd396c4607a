"""The shape and numerics of one T5 encoder-decoder, as a single frozen record.

Every size in the paper's stack (T5 1.0 11B, T5 1.1 XXL and the smaller members used to iterate) is one of these
records; the gin files under gin/models/ only fill in the numbers.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

_ACTIVATIONS = ("relu", "gelu", "linear")

# Rematerialisation of each encoder and decoder layer in the backward pass, by name (flaxformer's `layer_remat`
# values; MaxText uses the same names for the same policies). The value is the `jax.checkpoint` policy, None for
# no checkpointing at all.
# - 'none': every activation the backward pass needs is kept from the forward pass (no jax.checkpoint).
# - 'minimal': keep only the outputs of matmuls without batch dimensions, i.e. the projections q/k/v/out and
#   wi/wo ([batch, length, features], which grow linearly in the length); recompute everything else, notably the
#   attention logits and weights ([batch, heads, q, k], quadratic in the length: they are dot_generals with batch
#   dimensions), norms, activations and dropout. `checkpoint_dots` would keep those attention matrices too, the
#   largest activations at the paper's 1,024-token inputs, so flaxformer and MaxText pick this policy instead.
# - 'full': keep nothing but each layer's inputs; the whole layer is recomputed in the backward pass (about one
#   extra forward pass of compute).
REMAT_POLICIES = {
    "none": None,
    "minimal": jax.checkpoint_policies.dots_with_no_batch_dims_saveable,
    "full": jax.checkpoint_policies.nothing_saveable,
}


@dataclasses.dataclass(frozen=True)
class T5Config:
    """Dimensions and numerics of a T5 network.

    Numerics policy, as T5X: parameters are stored in float32; activations are computed in `dtype` (bfloat16 by
    default); layer norms and the output logits are computed in float32; attention logits and softmax in `dtype`
    unless `float32_attention_logits` (T5X's T5Config field of that name, False in its T5 1.0 and 1.1 gins).

    `remat_policy` trades compute for activation memory in training, per layer (see REMAT_POLICIES); it changes
    neither the parameters nor the numbers computed, and decoding is unaffected.
    """

    emb_dim: int
    num_heads: int
    head_dim: int
    mlp_dim: int
    num_encoder_layers: int
    num_decoder_layers: int
    vocab_size: int = 32128
    mlp_activations: tuple[str, ...] = ("gelu", "linear")
    dropout_rate: float = 0.1
    logits_via_embedding: bool = False
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    layer_norm_epsilon: float = 1e-6
    dtype: str = "bfloat16"
    float32_attention_logits: bool = False
    remat_policy: str = "none"

    def __post_init__(self):
        for name in ("emb_dim", "num_heads", "head_dim", "mlp_dim", "num_encoder_layers", "num_decoder_layers",
                     "vocab_size", "relative_attention_num_buckets", "relative_attention_max_distance"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"T5Config.{name} must be >= 1, got {getattr(self, name)!r}")
        activations = tuple(self.mlp_activations)
        object.__setattr__(self, "mlp_activations", activations)
        if not activations or any(a not in _ACTIVATIONS for a in activations):
            raise ValueError(f"T5Config.mlp_activations must be a non-empty tuple of {_ACTIVATIONS}, got {activations!r}")
        if not 0.0 <= self.dropout_rate < 1.0:
            raise ValueError(f"T5Config.dropout_rate must be in [0, 1), got {self.dropout_rate!r}")
        jnp.dtype(self.dtype)
        if self.remat_policy not in REMAT_POLICIES:
            raise ValueError(f"T5Config.remat_policy must be one of {tuple(REMAT_POLICIES)}, "
                             f"got {self.remat_policy!r}")

    @property
    def compute_dtype(self) -> jnp.dtype:
        """The activation dtype as a numpy dtype."""
        return jnp.dtype(self.dtype)

    def function_fields(self) -> dict:
        """The fields that fix the function the network computes, as a dict for artifact keys: all but
        remat_policy, which only trades the backward pass's memory for compute (the same loss; gradients equal up
        to rounding), so changing it reuses trained models, and keys written before the field existed still hold."""
        fields = dataclasses.asdict(self)
        del fields["remat_policy"]
        return fields

    def replace(self, **changes) -> "T5Config":
        """A copy with some fields changed (e.g. dtype='float32' for parity checks, dropout_rate=0.0)."""
        return dataclasses.replace(self, **changes)


T5_1_0_ACTIVATIONS = ("relu",)
T5_1_1_ACTIVATIONS = ("gelu", "linear")
