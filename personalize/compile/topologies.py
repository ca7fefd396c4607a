"""Slice names as Cloud TPU spells them (v4-128, v5e-256, ...) -> libtpu topologies, and their compile-only devices.

v4 and v5p slice names count TensorCores, two per chip; v5e and v6e names count chips. v4 and v5p compile in the
megacore chip configuration, one device per chip, as a pod runs them: without it libtpu lists two devices a chip
and every per-device figure would describe half a chip.
"""

import dataclasses
import importlib.util
import os
import re

from personalize.compile.chips import CHIPS, Chip

# chips -> physical shape (Cloud TPU's slice shapes: a 3-D torus for v4/v5p, a 2-D one for v5e/v6e).
_SHAPES_3D = {
    4: "2x2x1", 8: "2x2x2", 16: "2x2x4", 32: "2x4x4", 64: "4x4x4", 128: "4x4x8", 256: "4x8x8", 512: "8x8x8",
    1024: "8x8x16", 2048: "8x16x16", 4096: "16x16x16", 6144: "16x16x24",
}
_SHAPES_2D = {1: "1x1", 4: "2x2", 8: "2x4", 16: "4x4", 32: "4x8", 64: "8x8", 128: "8x16", 256: "16x16"}
_CORES_PER_CHIP = {"v4": 2, "v5p": 2, "v5e": 1, "v6e": 1}
_MAX_CHIPS = {"v4": 2048, "v5p": 6144, "v5e": 256, "v6e": 256}


@dataclasses.dataclass(frozen=True)
class Slice:
    name: str  # as given: v4-128
    generation: str  # v4
    chips: int
    topology_name: str  # libtpu's: v4:4x4x4
    chip: Chip


def parse_slice(name: str) -> Slice:
    """'v4-128' -> Slice(v4, 64 chips, 'v4:4x4x4'); a clear error naming the sizes that exist otherwise."""
    match = re.fullmatch(r"(v4|v5e|v5p|v6e)-(\d+)", name.strip().lower())
    if not match:
        raise ValueError(f"--topology {name!r}: expected a slice name like v4-128, v5e-256, v5p-128 or v6e-64")
    generation, count = match.group(1), int(match.group(2))
    per_chip = _CORES_PER_CHIP[generation]
    shapes = _SHAPES_3D if per_chip == 2 else _SHAPES_2D
    sizes = [chips * per_chip for chips in shapes if chips <= _MAX_CHIPS[generation]]
    chips = count // per_chip
    if count % per_chip or chips not in shapes or chips > _MAX_CHIPS[generation]:
        raise ValueError(f"--topology {name!r}: {generation} slices come in sizes {sizes}")
    return Slice(name=name, generation=generation, chips=chips, topology_name=f"{generation}:{shapes[chips]}",
                 chip=CHIPS[generation])


def slice_devices(tpu_slice: Slice) -> list:
    """The slice's compile-only devices (one per chip); needs libtpu, starts no TPU runtime."""
    from jax.experimental import topologies

    # libtpu takes /tmp/libtpu_lockfile so that two processes never drive one TPU; compiling drives none, and
    # several compiles (or a test run beside a compile) may share a host.
    os.environ.setdefault("ALLOW_MULTIPLE_LIBTPU_LOAD", "1")
    options = {"chip_config_name": "megacore"} if tpu_slice.chip.megacore else {}
    devices = topologies.get_topology_desc(platform="tpu", topology_name=tpu_slice.topology_name, **options).devices
    if len(devices) != tpu_slice.chips:
        raise ValueError(f"{tpu_slice.topology_name}: libtpu lists {len(devices)} devices for {tpu_slice.chips} chips")
    return list(devices)


def libtpu_available() -> bool:
    """Whether JAX can describe TPU slices here (the `tpu` extra: `pip install -e '.[tpu]'`)."""
    return importlib.util.find_spec("libtpu") is not None
