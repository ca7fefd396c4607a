"""Multi-process start-up (TPU pods, GPU clusters): a thin wrapper over `jax.distributed.initialize`."""

import os
from collections.abc import Mapping

import jax

COORDINATOR_ADDRESS_ENV = "JAX_COORDINATOR_ADDRESS"
NUM_PROCESSES_ENV = "JAX_NUM_PROCESSES"
PROCESS_ID_ENV = "JAX_PROCESS_ID"


def initialize_distributed(
    *,
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Join the process group before any other JAX call.

    Arguments win over the environment (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID). With none of
    the three known anywhere, JAX auto-detects the cluster (Cloud TPU, SLURM, Open MPI); a partial set is an error,
    because a process that guesses the rest would hang waiting for peers that never come.
    """
    environ = os.environ if environ is None else environ
    if coordinator_address is None:
        coordinator_address = environ.get(COORDINATOR_ADDRESS_ENV) or None
    if num_processes is None and environ.get(NUM_PROCESSES_ENV):
        num_processes = int(environ[NUM_PROCESSES_ENV])
    if process_id is None and environ.get(PROCESS_ID_ENV):
        process_id = int(environ[PROCESS_ID_ENV])
    given = {
        "coordinator_address": coordinator_address,
        "num_processes": num_processes,
        "process_id": process_id,
    }
    if all(value is None for value in given.values()):
        jax.distributed.initialize()
        return
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise ValueError(
            f"distributed start-up needs coordinator_address, num_processes and process_id; missing {missing} "
            f"(pass them or set {COORDINATOR_ADDRESS_ENV}, {NUM_PROCESSES_ENV}, {PROCESS_ID_ENV})"
        )
    if not 0 <= process_id < num_processes:
        raise ValueError(f"process_id {process_id} is outside [0, {num_processes})")
    jax.distributed.initialize(
        coordinator_address=coordinator_address, num_processes=num_processes, process_id=process_id
    )
