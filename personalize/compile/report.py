"""Memory against the chip's HBM, FLOPs, and a roofline projection of step time and MFU.

Roofline: a step takes at least its FLOPs over the chip's peak, its HBM traffic over the HBM bandwidth and its
collective bytes over the ICI bandwidth; the projection is the largest of the three (perfect overlap), so it is
an optimistic bound, not a measurement. MFU = analytic model FLOPs / (projected time x peak x chips).
"""

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

import jax

from personalize.compile.aot import Compiled
from personalize.compile.chips import GIB
from personalize.compile.hlo import collective_bytes, loop_trip_counts
from personalize.compile.topologies import Slice


@dataclasses.dataclass(frozen=True)
class Memory:
    arguments: int
    temporaries: int
    outputs: int
    aliased: int  # outputs that reuse donated argument buffers
    code: int
    xla_peak: int  # XLA's own peak estimate (buffers reused over the program); the total above is the safe bound

    @property
    def total(self) -> int:
        return self.arguments + self.temporaries + self.outputs - self.aliased + self.code


def memory_of(compiled: Compiled) -> Memory:
    stats = compiled.memory
    return Memory(arguments=int(stats.argument_size_in_bytes), temporaries=int(stats.temp_size_in_bytes),
                  outputs=int(stats.output_size_in_bytes), aliased=int(stats.alias_size_in_bytes),
                  code=int(stats.generated_code_size_in_bytes),
                  xla_peak=int(getattr(stats, "peak_memory_in_bytes", 0)))


def parameter_bytes_per_device(abstract_params: Any) -> int:
    """Bytes of one device's shard of every parameter, from the shardings the state is compiled with."""
    total = 0
    for leaf in jax.tree.leaves(abstract_params):
        total += math.prod(leaf.sharding.shard_shape(leaf.shape)) * leaf.dtype.itemsize
    return total


def train_report(*, compiled: Compiled, tpu_slice: Slice, analytic_flops: Mapping[str, float],
                 num_microbatches: int) -> dict[str, Any]:
    """Everything `personalize compile` prints and writes, for the train step."""
    memory = memory_of(compiled)
    chip = tpu_slice.chip
    # cost_analysis counts the microbatch loop's body once: the whole step is that body num_microbatches times
    # (the optimizer update outside the loop, O(parameters), is counted that often too: under 1% at T5 sizes).
    loop = num_microbatches if num_microbatches > 1 and num_microbatches in loop_trip_counts(compiled.hlo_text) else 1
    xla_flops_per_device = compiled.cost["flops"] * loop
    hbm_traffic = compiled.cost["bytes accessed"] * loop
    collectives = collective_bytes(compiled.hlo_text)
    # XLA also makes loops of its own (sharded matmuls) whose bodies it counts once and whose trip counts the text
    # does not always give: the step does at least the model's FLOPs, so the compute time never goes below them.
    seconds = {
        "compute": max(xla_flops_per_device, analytic_flops["total"] / tpu_slice.chips) / chip.peak_bf16_flops,
        "hbm": hbm_traffic / chip.hbm_bytes_per_second,
        "ici": sum(collectives.values()) / chip.ici_bytes_per_second,
    }
    step_seconds = max(seconds.values())
    peak = chip.peak_bf16_flops * tpu_slice.chips
    mfu = analytic_flops["total"] / (step_seconds * peak) if step_seconds else 0.0
    compute_bound_mfu = analytic_flops["total"] / (seconds["compute"] * peak) if seconds["compute"] else 0.0
    return {
        "topology": tpu_slice.name,
        "libtpu_topology": tpu_slice.topology_name,
        "chips": tpu_slice.chips,
        "chip": chip.name,
        "per_device_bytes": memory.total,
        "memory": dataclasses.asdict(memory),
        "parameter_bytes_per_device": parameter_bytes_per_device(compiled.abstract_params),
        "hbm_bytes": chip.hbm_bytes,
        "fits": memory.total <= chip.hbm_bytes,
        "hbm_spare_fraction": 1.0 - memory.total / chip.hbm_bytes,
        "flops_per_step": analytic_flops["total"],
        "analytic_flops": dict(analytic_flops),
        "xla_flops_per_step": xla_flops_per_device * tpu_slice.chips,
        "xla_loop_multiplier": loop,
        "xla_while_loops": compiled.hlo_text.count(" while("),
        "hbm_bytes_accessed_per_device": hbm_traffic,
        "collective_bytes_per_device": collectives,
        "roofline_seconds": seconds,
        "projected_step_seconds": step_seconds,
        "projected_mfu": mfu,
        # The same with HBM and ICI taken as free: the ceiling if XLA's bytes-accessed count overstates traffic.
        "compute_bound_mfu": compute_bound_mfu,
        "chip_source": chip.source,
    }


def refused_report(*, required_bytes: int, available_bytes: int, message: str, tpu_slice: Slice) -> dict[str, Any]:
    """XLA would not build the program: what it needed, per device, is more than the chip has."""
    return {"per_device_bytes": required_bytes, "hbm_bytes": tpu_slice.chip.hbm_bytes, "fits": False,
            "xla_available_hbm_bytes": available_bytes, "xla_refused": message, "projected_step_seconds": None,
            "projected_mfu": None}


def decode_report(*, compiled: Compiled, tpu_slice: Slice) -> dict[str, Any]:
    memory = memory_of(compiled)
    return {"per_device_bytes": memory.total, "memory": dataclasses.asdict(memory),
            "hbm_bytes": tpu_slice.chip.hbm_bytes, "fits": memory.total <= tpu_slice.chip.hbm_bytes}


def _gib(value: float) -> str:
    return f"{value / GIB:.2f} GiB"


def _memory_line(report: Mapping[str, Any]) -> str:
    memory = report["memory"]
    verdict = "fits" if report["fits"] else "DOES NOT FIT"
    return (f"arguments {_gib(memory['arguments'])}, temporaries {_gib(memory['temporaries'])}, outputs "
            f"{_gib(memory['outputs'])} (aliased {_gib(memory['aliased'])}) -> {_gib(report['per_device_bytes'])} "
            f"of {_gib(report['hbm_bytes'])}: {verdict} ({100 * (1 - report['per_device_bytes'] / report['hbm_bytes']):.0f}% spare)")


def _refused_line(report: Mapping[str, Any]) -> str:
    return (f"XLA needs at least {_gib(report['per_device_bytes'])} of temporaries, "
            f"{_gib(report['xla_available_hbm_bytes'])} available: DOES NOT FIT")


def format_report(report: Mapping[str, Any]) -> list[str]:
    """The console lines."""
    head = f"train step on {report['topology']} ({report['libtpu_topology']}, {report['chips']} x {report['chip']})"
    decode = report.get("decode")
    decode_lines = ([] if decode is None else [f"decode (beam search) per device: "
                    f"{_refused_line(decode) if 'xla_refused' in decode else _memory_line(decode)}"])
    if "xla_refused" in report:
        return [head, f"  per device: {_refused_line(report)}",
                f"  FLOPs per step: analytic {report['flops_per_step']:.3e}", *decode_lines]
    seconds = report["roofline_seconds"]
    flops = report["analytic_flops"]
    collectives = ", ".join(f"{kind} {_gib(size)}" for kind, size in sorted(report["collective_bytes_per_device"].items()))
    lines = [
        head,
        f"  per device: {_memory_line(report)}; parameters {_gib(report['parameter_bytes_per_device'])}",
        f"  FLOPs per step: analytic {report['flops_per_step']:.3e} (6·N·tokens {flops['weights']:.3e} + attention "
        f"{flops['attention']:.3e}); XLA {report['xla_flops_per_step']:.3e} (microbatch loop x{report['xla_loop_multiplier']}; "
        f"{report['xla_while_loops']} while loops, each body counted once by XLA)",
        f"  collectives per device per step: {collectives or 'none'}",
        f"  roofline: compute {seconds['compute']:.3f} s, HBM {seconds['hbm']:.3f} s, ICI {seconds['ici']:.3f} s -> "
        f"projected {report['projected_step_seconds']:.3f} s per step, MFU {100 * report['projected_mfu']:.1f}% "
        f"(compute alone: {100 * report['compute_bound_mfu']:.1f}%; bounds from peak figures, not measurements)",
    ]
    return lines + decode_lines


def write_json(report: Mapping[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
