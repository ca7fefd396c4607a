"""Splitting a CPU host into several XLA devices, so that independent work runs concurrently on its cores.

One XLA:CPU executable leaves cores idle in its single-threaded stretches (small fusions, reductions, the steps
between ops): encoding 512 blog posts with MiniLM on 2 cores kept 1.76 cores busy. With the host split into two
CPU devices, the dense encoder's data-parallel path runs half of every batch on each, their idle stretches
overlap, and 1.98 cores stay busy: 12% more texts per second (bench/bench_minilm.py measures it).

The number of CPU devices is fixed for the whole process once JAX has started a backend, so this runs at the
command-line edge, before any JAX work. It changes nothing on a GPU or TPU host, whose devices are the
accelerators.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

AUTO = "auto"
# Measured on 2 cores (the machines our CI and laptops have); more devices than this were not measured.
AUTO_MAX_DEVICES = 2


def resolve_cpu_devices(value: str | int) -> int:
    """'auto' -> one device per usable core, at most AUTO_MAX_DEVICES; a number -> itself (at least 1)."""
    if value == AUTO:
        return max(1, min(AUTO_MAX_DEVICES, len(os.sched_getaffinity(0))))
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"cpu_devices must be 'auto' or a positive number, got {value!r}") from None
    if count < 1:
        raise ValueError(f"cpu_devices must be 'auto' or a positive number, got {value!r}")
    return count


def split_cpu_into_devices(*, count: int, stream: TextIO | None = None) -> int:
    """Asks JAX for `count` CPU devices and returns how many the process has; worker processes it starts (Beam's
    multi_processing DirectRunner) inherit the count through $JAX_NUM_CPU_DEVICES.

    When a backend has already started (a library or test ran JAX work first) the count can no longer change:
    the process keeps what it has and a line on `stream` (stderr) says so, rather than failing the run.
    """
    import jax

    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError:
        have = len(jax.devices("cpu"))
        if have != count:
            print(f"cpu_devices: JAX already started with {have} CPU device(s); keeping them instead of {count}",
                  file=stream or sys.stderr)
        return have
    os.environ["JAX_NUM_CPU_DEVICES"] = str(count)
    return count
