import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import PartitionSpec

from personalize.training.adafactor import Adafactor, factored_dims
from personalize.training.schedules import warmup_rsqrt_decay


def _params():
    keys = jax.random.split(jax.random.key(0), 3)
    return {
        "kernel": jax.random.normal(keys[0], (6, 10)),
        "heads": jax.random.normal(keys[1], (6, 2, 8)),
        "scale": jax.random.normal(keys[2], (6,)),
    }


def _run(transform, params, steps=4):
    state = transform.init(params)
    for i in range(steps):
        grads = jax.tree.map(lambda p: jnp.sin(p * (i + 1)), params)
        updates, state = transform.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    return params


@pytest.mark.parametrize("min_dim_size_to_factor", [4, 128])
def test_matches_optax_adafactor_with_t5x_settings(min_dim_size_to_factor):
    schedule = warmup_rsqrt_decay(base_learning_rate=0.01, warmup_steps=2)
    ours = Adafactor(learning_rate=schedule, min_dim_size_to_factor=min_dim_size_to_factor)
    reference = optax.adafactor(learning_rate=schedule, min_dim_size_to_factor=min_dim_size_to_factor)
    got, want = _run(ours, _params()), _run(reference, _params())
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-7, err_msg=name)
    assert not np.allclose(got["kernel"], _params()["kernel"])


def test_momentum_matches_optax():
    ours = Adafactor(learning_rate=0.01, beta1=0.9, min_dim_size_to_factor=4)
    reference = optax.adafactor(learning_rate=0.01, momentum=0.9, min_dim_size_to_factor=4)
    got, want = _run(ours, _params()), _run(reference, _params())
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-7, err_msg=name)


def test_factored_dims_are_the_two_largest():
    assert factored_dims(shape=(6, 10), factored=True, min_dim_size_to_factor=4) == (0, 1)
    assert factored_dims(shape=(6, 2, 8), factored=True, min_dim_size_to_factor=4) == (0, 2)
    assert factored_dims(shape=(6, 2, 8), factored=True, min_dim_size_to_factor=7) is None
    assert factored_dims(shape=(6,), factored=True, min_dim_size_to_factor=1) is None


def test_state_is_named_after_the_dimensions_it_keeps():
    params = _params()
    specs = {
        "kernel": PartitionSpec("embed", "mlp"),
        "heads": PartitionSpec("embed", "heads", "kv"),
        "scale": PartitionSpec("embed"),
    }
    optimizer = Adafactor(learning_rate=0.1, min_dim_size_to_factor=4, beta1=0.9)
    state_specs = optimizer.state_logical_specs(param_specs=specs, params=params)
    state = optimizer.init(params)
    # kernel [embed=6, mlp=10]: v_row averages over mlp (the largest), v_col over embed.
    assert state_specs.v_row["kernel"] == PartitionSpec("embed") and state.v_row["kernel"].shape == (6,)
    assert state_specs.v_col["kernel"] == PartitionSpec("mlp") and state.v_col["kernel"].shape == (10,)
    assert state_specs.v_row["heads"] == PartitionSpec("embed", "heads") and state.v_row["heads"].shape == (6, 2)
    assert state_specs.v_col["heads"] == PartitionSpec("heads", "kv") and state.v_col["heads"].shape == (2, 8)
    assert state_specs.v["scale"] == PartitionSpec("embed") and state.v["scale"].shape == (6,)
    assert state_specs.v["kernel"] == PartitionSpec() and state.v["kernel"].shape == (1,)
    assert state_specs.momentum == specs


def test_update_without_params_is_a_clear_error():
    optimizer = Adafactor(learning_rate=0.1)
    params = _params()
    with pytest.raises(ValueError, match="pass params"):
        optimizer.update(params, optimizer.init(params))
