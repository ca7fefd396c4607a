"""A tiny stand-in encoder-decoder with the T5 model's call contract and logically named params."""

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

VOCAB = 16
EMBED = 8
MLP = 16


def _dense(name: str, features: int, axes: tuple[str, str]) -> nn.Dense:
    return nn.Dense(
        features,
        use_bias=False,
        name=name,
        kernel_init=nn.with_logical_partitioning(nn.initializers.normal(0.3), axes),
    )


class TinySeq2Seq(nn.Module):
    dropout_rate: float = 0.1

    @nn.compact
    def __call__(
        self,
        encoder_input_tokens,
        decoder_input_tokens,
        decoder_target_tokens=None,
        encoder_segment_ids=None,
        decoder_segment_ids=None,
        encoder_positions=None,
        decoder_positions=None,
        *,
        enable_dropout=True,
        decode=False,
        max_decode_length=None,
    ):
        embed = nn.Embed(
            VOCAB,
            EMBED,
            name="token_embedder",
            embedding_init=nn.with_logical_partitioning(nn.initializers.normal(1.0), ("vocab", "embed")),
        )
        # [batch, length] -> [batch, length, embed]
        encoded = embed(encoder_input_tokens)
        encoded = nn.with_logical_constraint(encoded, ("batch", "length", "embed"))
        hidden = nn.relu(_dense("wi", MLP, ("embed", "mlp"))(encoded))
        hidden = nn.with_logical_constraint(hidden, ("batch", "length", "mlp"))
        encoded = _dense("wo", EMBED, ("mlp", "embed"))(hidden)
        mask = (encoder_input_tokens > 0)[..., None]
        # [batch, length, embed] -> [batch, 1, embed]
        pooled = jnp.sum(encoded * mask, axis=1, keepdims=True) / jnp.maximum(jnp.sum(mask, axis=1, keepdims=True), 1)
        decoded = embed(decoder_input_tokens) + pooled
        decoded = nn.Dropout(self.dropout_rate, deterministic=not enable_dropout)(decoded)
        scale = self.param(
            "decoder_norm", nn.with_logical_partitioning(nn.initializers.ones, ("embed",)), (EMBED,)
        )
        decoded = decoded * scale
        logits = _dense("logits_dense", VOCAB, ("embed", "vocab"))(decoded)
        return nn.with_logical_constraint(logits, ("batch", "length", "vocab")).astype(jnp.float32)


def make_batches(*, count: int, batch_size: int = 8, length: int = 6, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Deterministic EncDecFeatureConverter-style batches (with some padding) of a copy task."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        inputs = rng.integers(2, VOCAB, size=(batch_size, length)).astype(np.int32)
        targets = inputs.copy()
        lengths = rng.integers(2, length + 1, size=batch_size)
        for row, n in enumerate(lengths):
            inputs[row, n:] = 0
            targets[row, n:] = 0
            targets[row, n - 1] = 1
        decoder_inputs = np.concatenate([np.zeros((batch_size, 1), np.int32), targets[:, :-1]], axis=1)
        batches.append(
            {
                "encoder_input_tokens": inputs,
                "decoder_input_tokens": decoder_inputs,
                "decoder_target_tokens": targets,
                "decoder_loss_weights": (targets > 0).astype(np.int32),
            }
        )
    return batches
