"""The `train` run: build or restore the sharded state, then hand over to the train loop."""

import pathlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import flax.linen as nn
import jax

from personalize.partitioning.partitioner import Partitioner
from personalize.partitioning.shardings import data_shard_of_process, global_batch
from personalize.training import checkpoints
from personalize.training.data import SeqioBatches, iterate_batches
from personalize.training.decoded_evaluation import DecodedEvaluation, combined, make_decoded_evaluator
from personalize.training.early_stopping import BestCheckpoint, EarlyStopping
from personalize.training.loop import evaluate_batches, train_loop
from personalize.training.metrics_log import MetricsLog
from personalize.training.objective import LossNormalizingFactor
from personalize.training.state import PartitionedOptimizer, TrainState, initialize_state, state_shardings
from personalize.training.steps import compile_eval_step, compile_train_step
from personalize.training.summaries import SummaryWriter, operative_gin_config

if TYPE_CHECKING:
    from personalize.models.t5.checkpoint_import import T5XOptimizerState

METRICS_FILE = "metrics.jsonl"
CHECKPOINT_DIR = "checkpoints"


def prng_impl(use_hardware_rng: bool) -> str:
    """The PRNG of parameter init and dropout. T5X's `use_hardware_rng` (its default whenever RANDOM_SEED is None)
    switches to 'unsafe_rbg', the TPU's hardware bit generator (it left the 11B v4-128 projection unchanged, README),
    and the bits then depend on the partitioning. Threefry (the default here) gives the same run on any mesh."""
    return "unsafe_rbg" if use_hardware_rng else "threefry2x32"


def model_input_shapes(*, task_feature_lengths: Mapping[str, int], batch_size: int) -> dict[str, tuple[int, int]]:
    """Shapes to trace the model's init with: SeqIO's `inputs`/`targets` lengths -> encoder/decoder features."""
    for name in ("inputs", "targets"):
        if name not in task_feature_lengths:
            raise ValueError(f"task_feature_lengths needs {name!r}, got {dict(task_feature_lengths)}")
    return {
        "encoder_input_tokens": (batch_size, int(task_feature_lengths["inputs"])),
        "decoder_input_tokens": (batch_size, int(task_feature_lengths["targets"])),
    }


def _start_state(
    *,
    manager: Any,
    model: nn.Module,
    optimizer: PartitionedOptimizer,
    input_shapes: Mapping[str, tuple[int, int]],
    partitioner: Partitioner,
    init_key: jax.Array,
    pretrained_params: Any,
    pretrained_optimizer_state: "T5XOptimizerState | None",
    log: MetricsLog,
) -> tuple[TrainState, TrainState, int]:
    shardings, abstract = state_shardings(
        model=model, optimizer=optimizer, input_shapes=input_shapes, mesh=partitioner.mesh, rules=partitioner.rules
    )
    restored = checkpoints.restore_latest(manager=manager, abstract_state=abstract)
    if restored is not None:
        state, batches_consumed = restored
        log.message(
            f"resumed from checkpoint step {int(jax.device_get(state.step))} "
            f"at data position {batches_consumed} ({manager.directory})"
        )
        return state, shardings, batches_consumed
    state = initialize_state(
        model=model,
        optimizer=optimizer,
        input_shapes=input_shapes,
        rng=init_key,
        shardings=shardings,
        mesh=partitioner.mesh,
        rules=partitioner.rules,
    )
    if pretrained_params is not None:
        # A copy: training donates its state buffers, and the caller's tree (shared by an experiment's rows)
        # must survive this run.
        params = jax.device_put(jax.tree_util.tree_map(
            lambda x: x.copy() if isinstance(x, jax.Array) else x, pretrained_params), shardings.params)
        if pretrained_optimizer_state is None:
            opt_state = jax.jit(optimizer.init, out_shardings=shardings.opt_state)(params)
            state = TrainState(step=state.step, params=params, opt_state=opt_state)
            log.message("started from the given pretrained parameters at step 0 (the checkpoint has no step or "
                        "optimizer state, e.g. Hugging Face safetensors): TRAIN_STEPS counts from 0, Adafactor's "
                        "statistics start fresh")
        else:
            state = _continue_t5x(params=params, shardings=shardings, optimizer=optimizer,
                                  t5x_state=pretrained_optimizer_state, log=log)
    elif pretrained_optimizer_state is not None:
        raise ValueError("pretrained_optimizer_state is given without pretrained_params")
    return state, shardings, 0


def _continue_t5x(*, params: Any, shardings: TrainState, optimizer: PartitionedOptimizer,
                  t5x_state: "T5XOptimizerState", log: MetricsLog) -> TrainState:
    """The train state at a T5X checkpoint's step with its Adafactor statistics, as T5X's fine-tuning restores it."""
    if not hasattr(optimizer, "state_from_t5x"):
        raise ValueError(f"{t5x_state.source}: {type(optimizer).__name__} cannot take a T5X checkpoint's optimizer "
                         "state (use training.adafactor.Adafactor, as T5X does)")
    opt_state = optimizer.state_from_t5x(params=params, step=t5x_state.step, param_states=t5x_state.param_states,
                                         source=t5x_state.source)
    opt_state = jax.device_put(opt_state, shardings.opt_state)
    step = jax.device_put(jax.numpy.asarray(t5x_state.step, jax.numpy.int32), shardings.step)
    statistics = "its Adafactor statistics" if t5x_state.param_states else "fresh Adafactor statistics (it has none)"
    log.message(f"continuing the T5X checkpoint {t5x_state.source} at its step {t5x_state.step} with {statistics}: "
                f"TRAIN_STEPS includes those steps, and the learning-rate schedule continues from there")
    return TrainState(step=step, params=params, opt_state=opt_state)


def train(
    *,
    model_dir: str,
    model: nn.Module,
    optimizer: PartitionedOptimizer,
    partitioner: Partitioner,
    train_data: SeqioBatches | Iterable[Mapping[str, Any]],
    task_feature_lengths: Mapping[str, int],
    train_steps: int,
    validation_data: SeqioBatches | Iterable[Mapping[str, Any]] | None = None,
    eval_period: int | None = None,
    checkpoint_period: int = 1000,
    keep_checkpoints: int | None = None,
    log_period: int = 100,
    z_loss: float = 1e-4,
    label_smoothing: float = 0.0,
    loss_normalizing_factor: LossNormalizingFactor = "NUM_REAL_TARGET_TOKENS",
    num_microbatches: int = 1,
    random_seed: int = 0,
    use_hardware_rng: bool = False,
    pretrained_params: Any = None,
    pretrained_optimizer_state: "T5XOptimizerState | None" = None,
    decoded_evaluation: DecodedEvaluation | None = None,
    early_stopping: EarlyStopping | None = None,
) -> TrainState:
    """Fine-tune until step `train_steps` (a total, as in T5X), resuming from MODEL_DIR/checkpoints if present.

    `loss_normalizing_factor` is T5X's (training/objective.py); the default here, 'NUM_REAL_TARGET_TOKENS' (a
    per-token mean), keeps the scale library callers were tuned with; gin/runs/finetune.gin binds T5X's None (a sum).
    `pretrained_optimizer_state` (a T5X checkpoint's step and Adafactor statistics, with its `pretrained_params`)
    continues that checkpoint's training as T5X does: TRAIN_STEPS then includes its steps.
    `pretrained_params` (an unboxed param tree, e.g. from the T5 checkpoint importer) is used only when the
    model directory has no checkpoint yet. `early_stopping` (needs validation_data) keeps the best validation
    state in MODEL_DIR/best_checkpoint and stops when validation stops improving (the paper's "until validation
    converges"); TRAIN_STEPS stays the limit. `use_hardware_rng`: see `prng_impl`.
    """
    if early_stopping is not None and validation_data is None:
        raise ValueError("early_stopping needs validation_data")
    if decoded_evaluation is not None and not isinstance(validation_data, SeqioBatches):
        raise ValueError("decoded evaluation decodes the validation split of a SeqIO task: set validation_data")
    if validation_data is not None and not eval_period:
        raise ValueError("validation_data is given but eval_period is not: set how often to evaluate")
    directory = pathlib.Path(model_dir)
    log = MetricsLog(path=directory / METRICS_FILE, summaries=SummaryWriter(directory=directory))
    mesh, rules = partitioner.mesh, partitioner.rules
    init_key, dropout_key = jax.random.split(jax.random.key(random_seed, impl=prng_impl(use_hardware_rng)))
    input_shapes = model_input_shapes(task_feature_lengths=task_feature_lengths, batch_size=mesh.shape["data"])
    manager = checkpoints.open_manager(
        directory=directory / CHECKPOINT_DIR, keep=keep_checkpoints
    )
    best = BestCheckpoint(model_dir=directory, rule=early_stopping) if early_stopping is not None else None
    try:
        state, shardings, batches_consumed = _start_state(
            manager=manager,
            model=model,
            optimizer=optimizer,
            input_shapes=input_shapes,
            partitioner=partitioner,
            init_key=init_key,
            pretrained_params=pretrained_params,
            pretrained_optimizer_state=pretrained_optimizer_state,
            log=log,
        )
        log.text(step=int(jax.device_get(state.step)), split="train", tag="config", text=operative_gin_config())
        step_fn = compile_train_step(
            model=model,
            optimizer=optimizer,
            shardings=shardings,
            mesh=mesh,
            rules=rules,
            z_loss=z_loss,
            label_smoothing=label_smoothing,
            loss_normalizing_factor=loss_normalizing_factor,
            num_microbatches=num_microbatches,
        )
        to_global = lambda batch: global_batch(local_batch=batch, mesh=mesh, rules=rules)  # noqa: E731
        shard = data_shard_of_process(mesh=mesh)
        evaluate = None
        if validation_data is not None:
            eval_fn = compile_eval_step(
                model=model, params_shardings=shardings.params, mesh=mesh, rules=rules, z_loss=z_loss,
                label_smoothing=label_smoothing,
            )
            evaluate = lambda params: evaluate_batches(  # noqa: E731
                eval_step=eval_fn, params=params, batches=iterate_batches(validation_data, shard=shard), to_global=to_global
            )
            if decoded_evaluation is not None:
                evaluate = combined(evaluate, make_decoded_evaluator(
                    settings=decoded_evaluation, mixture_or_task_name=validation_data.mixture_or_task_name,
                    split=validation_data.split, model=model, partitioner=partitioner,
                    task_feature_lengths=task_feature_lengths, batch_size=validation_data.batch_size,
                    mixture_or_task_module=validation_data.mixture_or_task_module))
        state, _ = train_loop(
            state=state,
            train_step=step_fn,
            batches=iterate_batches(train_data, start=batches_consumed, shard=shard),
            to_global=to_global,
            dropout_key=dropout_key,
            final_step=train_steps,
            batches_consumed=batches_consumed,
            log=log,
            log_period=log_period,
            manager=manager,
            checkpoint_period=checkpoint_period,
            evaluate=evaluate,
            eval_period=eval_period,
            best=best,
        )
    finally:
        manager.close()
        log.close()
        if best is not None:
            best.close()
    return state
