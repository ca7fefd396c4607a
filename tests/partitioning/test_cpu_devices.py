"""Splitting a CPU host into several JAX devices: `--cpu_devices` of `personalize rank` and `experiment`."""

import io
import os
import subprocess
import sys

import jax
import pytest

from personalize.partitioning.cpu_devices import AUTO_MAX_DEVICES, resolve_cpu_devices, split_cpu_into_devices


def test_auto_is_one_device_per_usable_core_up_to_the_measured_maximum():
    assert resolve_cpu_devices("auto") == min(AUTO_MAX_DEVICES, len(os.sched_getaffinity(0)))


def test_a_number_is_taken_as_given():
    assert resolve_cpu_devices("3") == 3
    assert resolve_cpu_devices(1) == 1


@pytest.mark.parametrize("value", ["0", "-2", "two", None])
def test_anything_else_is_refused_by_name(value):
    with pytest.raises(ValueError, match="cpu_devices must be 'auto' or a positive number"):
        resolve_cpu_devices(value)


def test_a_fresh_process_and_the_workers_it_starts_get_the_requested_devices():
    code = ("from personalize.partitioning.cpu_devices import split_cpu_into_devices; import jax, subprocess, sys; "
            "print(split_cpu_into_devices(count=3), len(jax.devices())); sys.stdout.flush(); "
            "subprocess.run([sys.executable, '-c', 'import jax; print(len(jax.devices()))'], check=True)")
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.stdout.split() == ["3", "3", "3"]


def test_once_jax_has_started_the_count_stays_and_a_line_says_so():
    stream = io.StringIO()
    have = len(jax.devices("cpu"))
    assert split_cpu_into_devices(count=have + 1, stream=stream) == have
    assert f"JAX already started with {have} CPU device(s); keeping them instead of {have + 1}" in stream.getvalue()
    quiet = io.StringIO()
    assert split_cpu_into_devices(count=have, stream=quiet) == have
    assert quiet.getvalue() == ""
    assert len(jax.devices()) == have
