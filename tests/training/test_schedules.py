import numpy as np
import pytest

from personalize.training.schedules import constant_with_warmup, warmup_rsqrt_decay


@pytest.mark.parametrize(
    "step, expected",
    [(0, 0.0), (250, 0.00025), (500, 0.0005), (1000, 0.001), (4000, 0.0005), (16000, 0.00025), (1_000_000, 0.001 / np.sqrt(1000))],
)
def test_warmup_rsqrt_decay_values(step, expected):
    schedule = warmup_rsqrt_decay(base_learning_rate=0.001, warmup_steps=1000)
    np.testing.assert_allclose(float(schedule(step)), expected, rtol=1e-6)


@pytest.mark.parametrize("step, expected", [(0, 0.0), (100, 0.0001), (999, 0.000999), (1000, 0.001), (50_000, 0.001)])
def test_constant_with_warmup_values(step, expected):
    schedule = constant_with_warmup(base_learning_rate=0.001, warmup_steps=1000)
    np.testing.assert_allclose(float(schedule(step)), expected, rtol=1e-6)


def test_constant_without_warmup_is_flat():
    schedule = constant_with_warmup(base_learning_rate=0.01, warmup_steps=0)
    assert [float(schedule(s)) for s in (0, 1, 10_000)] == pytest.approx([0.01] * 3)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="warmup_steps > 0"):
        warmup_rsqrt_decay(base_learning_rate=0.001, warmup_steps=0)
    with pytest.raises(ValueError, match="positive"):
        constant_with_warmup(base_learning_rate=0.0, warmup_steps=10)
