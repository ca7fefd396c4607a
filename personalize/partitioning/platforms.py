"""Which JAX platforms a command may start: not the TPU one on a machine without TPU chips.

The `.[tpu]` extra installs libtpu so that `personalize compile` can compile for TPU slices on a CPU host. With libtpu
installed, JAX tries to start a TPU runtime in every process and prints libtpu's start-up errors when there is no
chip. A TPU VM exposes its chips as /dev/accel* (v2-v4) or /dev/vfio/* (v5e, v5p, v6e); without them, and without a
JAX_PLATFORMS of the user's, the TPU platform is left out.
"""

from __future__ import annotations

import glob
import importlib.util
import os

TPU_DEVICE_FILES = ("/dev/accel*", "/dev/vfio/[0-9]*")


def has_tpu_chips() -> bool:
    return any(glob.glob(pattern) for pattern in TPU_DEVICE_FILES)


def leave_out_absent_tpu(environ: dict | None = None) -> str | None:
    """Sets JAX_PLATFORMS to the platforms this machine has when libtpu is installed but no TPU chip is; returns
    what it set (None: nothing changed). Call before JAX starts a backend."""
    environ = os.environ if environ is None else environ
    if environ.get("JAX_PLATFORMS") or importlib.util.find_spec("libtpu") is None or has_tpu_chips():
        return None
    gpu = any(importlib.util.find_spec(name) is not None for name in ("jax_cuda12_plugin", "jax_cuda13_plugin",
                                                                        "jax_rocm60_plugin", "jax_rocm7_plugin"))
    environ["JAX_PLATFORMS"] = "gpu,cpu" if gpu else "cpu"
    return environ["JAX_PLATFORMS"]
