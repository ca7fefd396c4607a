"""libtpu installed for `personalize compile` must not make every command start (and fail to start) a TPU runtime."""

import importlib.util

from personalize.partitioning import platforms


def test_without_tpu_chips_the_tpu_platform_is_left_out(monkeypatch):
    monkeypatch.setattr(platforms, "has_tpu_chips", lambda: False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name == "libtpu" else None)
    environ = {}
    assert platforms.leave_out_absent_tpu(environ) == "cpu" and environ == {"JAX_PLATFORMS": "cpu"}


def test_a_users_choice_a_tpu_vm_and_a_machine_without_libtpu_are_left_alone(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    assert platforms.leave_out_absent_tpu({"JAX_PLATFORMS": "tpu"}) is None
    monkeypatch.setattr(platforms, "has_tpu_chips", lambda: True)
    assert platforms.leave_out_absent_tpu({}) is None
    monkeypatch.setattr(platforms, "has_tpu_chips", lambda: False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert platforms.leave_out_absent_tpu({}) is None


def test_a_gpu_plugin_keeps_the_gpu(monkeypatch):
    monkeypatch.setattr(platforms, "has_tpu_chips", lambda: False)
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name: object() if name in ("libtpu", "jax_cuda12_plugin") else None)
    assert platforms.leave_out_absent_tpu({}) == "gpu,cpu"
