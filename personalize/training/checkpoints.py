"""Orbax checkpoints of the train state plus the data position, with fallback past an unreadable latest one.

A checkpoint `MODEL_DIR/checkpoints/<step>/` holds `state` (params, optimizer state, step; restored straight into
the shardings of whatever mesh the restoring run uses) and `data` (JSON: `batches_consumed`, the number of
training batches drawn so far, so a restarted run skips its input to the same place).
"""

import logging
import pathlib
from typing import Any

import jax
import orbax.checkpoint as ocp

from personalize.training.state import TrainState

logger = logging.getLogger(__name__)

_UNREADABLE_SUFFIX = ".unreadable"


class NoReadableCheckpointError(RuntimeError):
    """Every checkpoint in the directory failed to restore."""


def open_manager(*, directory: str | pathlib.Path, keep: int | None) -> ocp.CheckpointManager:
    """A manager that saves asynchronously and keeps the last `keep`; the train loop decides when to save."""
    if keep is not None and keep < 1:
        raise ValueError(f"keep must be >= 1 or None (keep all), got {keep}")
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True)
    return ocp.CheckpointManager(pathlib.Path(directory).absolute(), options=options)


def _as_tree(state: TrainState) -> dict[str, Any]:
    return {"step": state.step, "params": state.params, "opt_state": state.opt_state}


def save(*, manager: ocp.CheckpointManager, state: TrainState, batches_consumed: int) -> bool:
    """Start saving at `state.step` unless that step is already saved; True when a save was started."""
    step = int(jax.device_get(state.step))
    if step in manager.all_steps():
        return False
    return manager.save(
        step,
        args=ocp.args.Composite(
            state=ocp.args.StandardSave(_as_tree(state)),
            data=ocp.args.JsonSave({"batches_consumed": int(batches_consumed)}),
        ),
        force=True,
    )


def _restore_step(*, manager: ocp.CheckpointManager, step: int, abstract_state: TrainState) -> tuple[TrainState, int]:
    restored = manager.restore(
        step,
        args=ocp.args.Composite(
            state=ocp.args.StandardRestore(_as_tree(abstract_state)), data=ocp.args.JsonRestore()
        ),
    )
    tree = restored["state"]
    state = TrainState(step=tree["step"], params=tree["params"], opt_state=tree["opt_state"])
    return state, int(restored["data"]["batches_consumed"])


def restore_latest(
    *, manager: ocp.CheckpointManager, abstract_state: TrainState
) -> tuple[TrainState, int] | None:
    """(state, batches_consumed) from the newest readable checkpoint, or None when there is none.

    `abstract_state` carries the target shardings, so a checkpoint written on one mesh restores onto another.
    An unreadable checkpoint is reported, renamed to `<step>.unreadable` (kept for inspection, and out of the
    way of the step that will be saved again) and the previous one is tried.
    """
    steps = sorted(manager.all_steps(), reverse=True)
    if not steps:
        return None
    failures = []
    for step in steps:
        try:
            restored = _restore_step(manager=manager, step=step, abstract_state=abstract_state)
        except Exception as error:  # orbax raises many types for a damaged checkpoint; report each one
            path = pathlib.Path(manager.directory) / str(step)
            failures.append(f"{path}: {type(error).__name__}: {error}")
            logger.error(
                "checkpoint %s is unreadable (%s: %s); falling back to the previous checkpoint",
                path,
                type(error).__name__,
                error,
            )
            _set_aside(path)
            continue
        if failures:
            manager.reload()
        return restored
    manager.reload()
    raise NoReadableCheckpointError("no checkpoint could be restored:\n" + "\n".join(failures))


def _set_aside(path: pathlib.Path) -> None:
    if jax.process_index() != 0 or not path.exists():
        return
    target = path.with_name(path.name + _UNREADABLE_SUFFIX)
    suffix = 1
    while target.exists():
        target = path.with_name(f"{path.name}{_UNREADABLE_SUFFIX}.{suffix}")
        suffix += 1
    path.rename(target)


def restore_params(*, manager: ocp.CheckpointManager, abstract_params: Any, step: int | None = None) -> tuple[Any, int]:
    """(params, step) of checkpoint `step` (default: the latest) without its optimizer state, for eval and infer."""
    step = manager.latest_step() if step is None else step
    if step is None:
        raise FileNotFoundError(f"no checkpoint in {manager.directory}")
    if step not in manager.all_steps():
        raise FileNotFoundError(f"no checkpoint for step {step} in {manager.directory}; have {manager.all_steps()}")
    target = {"params": abstract_params}
    restored = manager.restore(
        step,
        args=ocp.args.Composite(
            state=ocp.args.PyTreeRestore(
                item=target,
                restore_args=ocp.checkpoint_utils.construct_restore_args(target),
                partial_restore=True,
            )
        ),
    )
    return restored["state"]["params"], step
