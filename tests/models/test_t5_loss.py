"""Cross-entropy, z-loss, label smoothing and the loss normalizing factor, against hand-computed values."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from personalize.models.t5.loss import cross_entropy_loss


def test_uniform_logits_give_log_vocab_per_token_and_ignore_padding():
    logits = jnp.zeros((2, 3, 8))
    targets = jnp.array([[3, 4, 0], [1, 0, 0]])
    terms = cross_entropy_loss(logits=logits, targets=targets, z_loss=0.0)
    assert float(terms.num_tokens) == 3.0
    assert float(terms.loss) == pytest.approx(math.log(8), rel=1e-6)


def test_z_loss_and_normalizing_factor():
    logits = jnp.array([[[2.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]])
    targets = jnp.array([[0 + 2, 1]])
    log_z = np.log(np.exp(np.array([2.0, 0, 0, 0])).sum()), np.log(np.exp(np.array([0, 1.0, 0, 0])).sum())
    ce = [log_z[0] - 0.0, log_z[1] - 1.0]
    z = [1e-2 * log_z[0] ** 2, 1e-2 * log_z[1] ** 2]

    mean = cross_entropy_loss(logits=logits, targets=targets, z_loss=1e-2)
    assert float(mean.cross_entropy) == pytest.approx(sum(ce) / 2, rel=1e-6)
    assert float(mean.z_loss) == pytest.approx(sum(z) / 2, rel=1e-6)
    assert float(mean.loss) == pytest.approx((sum(ce) + sum(z)) / 2, rel=1e-6)

    fixed = cross_entropy_loss(logits=logits, targets=targets, z_loss=1e-2, loss_normalizing_factor=233472)
    assert float(fixed.loss) == pytest.approx((sum(ce) + sum(z)) / 233472, rel=1e-6)


def test_label_smoothing_is_zero_at_the_smoothed_target_distribution():
    smoothing, vocab = 0.1, 5
    target_distribution = np.full(vocab, smoothing / (vocab - 1))
    target_distribution[3] = 1.0 - smoothing
    logits = jnp.log(jnp.asarray(target_distribution))[None, None, :]
    terms = cross_entropy_loss(logits=logits, targets=jnp.array([[3]]), z_loss=0.0, label_smoothing=smoothing)
    assert float(terms.loss) == pytest.approx(0.0, abs=1e-6)
    worse = cross_entropy_loss(logits=jnp.zeros((1, 1, vocab)), targets=jnp.array([[3]]), z_loss=0.0,
                               label_smoothing=smoothing)
    assert float(worse.loss) > 0.1


def test_batch_without_targets_is_zero_not_nan():
    terms = cross_entropy_loss(logits=jnp.zeros((1, 2, 4)), targets=jnp.zeros((1, 2), jnp.int32))
    assert float(terms.loss) == 0.0
