"""`personalize compile --topology=v4-128 --gin_file=...`: prove a pod configuration on this machine, no TPU needed.

Compiles the train step the same gin files would run (and, with --decode, the beam-search decode step) for
every chip of a TPU slice, then prints per-device memory against the chip's HBM, FLOPs and a roofline
projection. Exits 1 when the step does not fit. Needs the `tpu` extra (`pip install -e '.[tpu]'`).
"""

from __future__ import annotations

import argparse
import os

HELP = "compile the train (and decode) step for a TPU slice on this CPU host: memory, FLOPs, projected MFU"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topology", required=True,
                        help="a Cloud TPU slice name: v4-8 ... v4-4096, v5e-1 ... v5e-256, v5p-8 ..., v6e-1 ... v6e-256")
    parser.add_argument("--decode", action="store_true", help="also compile beam-search decoding (infer lengths)")
    parser.add_argument("--output_json", help="write the report (per_device_bytes, fits, projected_mfu, ...) here")


def _host_is_cpu() -> None:
    """Host-side work (PRNG keys, eval_shape) must run on the CPU: with libtpu installed JAX would otherwise try
    to start a TPU runtime on a machine that has none."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax

    try:
        jax.config.update("jax_platforms", "cpu")
    except RuntimeError:  # a backend already started (tests): it is the CPU one or the run would not be here
        pass


def run_command(args: argparse.Namespace, gin_files: list[str], gin_bindings: list[str]) -> int:
    if not gin_files:
        raise ValueError("personalize compile needs --gin_file (a model gin, runs/finetune.gin, a partitioning gin)")
    from personalize.compile.topologies import libtpu_available, parse_slice

    tpu_slice = parse_slice(args.topology)
    if not libtpu_available():
        raise ValueError("compiling for TPU needs libtpu: pip install -e '.[tpu]'")
    _host_is_cpu()
    from personalize import gin_config
    from personalize.compile import aot, flops, report as reports, settings as run_settings
    from personalize.console import native_stderr_quieted
    from personalize.compile.topologies import slice_devices
    from personalize.training.evaluation import abstract_params

    gin_config.parse_gin(gin_files, gin_bindings)
    settings = run_settings.read_run_settings()
    with native_stderr_quieted(expected=(aot.DoesNotFit,)):
        devices = slice_devices(tpu_slice)
    partitioner = aot.make_slice_partitioner(devices=devices, partitioning=settings.partitioning)
    mesh = dict(partitioner.mesh.shape)
    print(f"personalize compile: {args.topology}, mesh data {mesh['data']} x model {mesh['model']}, batch "
          f"{settings.batch_size} in {settings.num_microbatches} microbatch(es), lengths "
          f"{dict(settings.task_feature_lengths)}", flush=True)
    config = settings.model.config
    params, _ = abstract_params(model=settings.model, task_feature_lengths=settings.task_feature_lengths,
                                partitioner=partitioner)
    counts = flops.parameter_counts(params=params, config=config)
    analytic = flops.train_step_flops(counts=counts, config=config, task_feature_lengths=settings.task_feature_lengths,
                                      batch_size=settings.batch_size)
    try:
        with native_stderr_quieted(expected=(aot.DoesNotFit,)):
            train = aot.compile_train(settings=settings, partitioner=partitioner)
        result = reports.train_report(compiled=train, tpu_slice=tpu_slice, analytic_flops=analytic,
                                      num_microbatches=settings.num_microbatches)
    except aot.DoesNotFit as refused:
        result = reports.refused_report(required_bytes=refused.required_bytes, available_bytes=refused.available_bytes,
                                        message=str(refused), tpu_slice=tpu_slice)
        result.update(topology=tpu_slice.name, libtpu_topology=tpu_slice.topology_name, chips=tpu_slice.chips,
                      chip=tpu_slice.chip.name, flops_per_step=analytic["total"], analytic_flops=analytic)
    result.update(parameters=counts.total, mesh=mesh, num_microbatches=settings.num_microbatches,
                  batch_size=settings.batch_size, task_feature_lengths=dict(settings.task_feature_lengths))
    if args.decode:
        try:
            with native_stderr_quieted(expected=(aot.DoesNotFit,)):
                decode = aot.compile_decode(settings=settings, partitioner=partitioner, abstract_params=params)
            result["decode"] = reports.decode_report(compiled=decode, tpu_slice=tpu_slice)
        except aot.DoesNotFit as refused:
            result["decode"] = reports.refused_report(
                required_bytes=refused.required_bytes, available_bytes=refused.available_bytes, message=str(refused),
                tpu_slice=tpu_slice)
    print(f"model: {counts.total:,} parameters")
    for line in reports.format_report(result):
        print(line)
    if args.output_json:
        reports.write_json(result, args.output_json)
    fits = result["fits"] and result.get("decode", {"fits": True})["fits"]
    return 0 if fits else 1
