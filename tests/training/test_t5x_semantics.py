"""T5X's training semantics: TRAIN_STEPS counts a T5X checkpoint's steps, its Adafactor statistics carry over,
unused gin settings stop the run, Z_LOSS / LABEL_SMOOTHING are settable, and loss_normalizing_factor means what
it means in T5X (None: a sum; string modes; per microbatch)."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import serialization, traverse_util
from flax.core import meta
from tiny_seq2seq import TinySeq2Seq, make_batches

from personalize.models.t5.checkpoint_import import initial_optimizer_state, load_t5x_optimizer_state
from personalize.partitioning.partitioner import make_partitioner
from personalize.partitioning.shardings import global_batch
from personalize.training.adafactor import Adafactor
from personalize.training.entry import GIN_DIR, run_gin
from personalize.training.finetune import model_input_shapes, train
from personalize.training.objective import factor_and_weights, objective
from personalize.training.schedules import warmup_rsqrt_decay
from personalize.training.state import boxed_params, initialize_state, state_shardings
from personalize.training.steps import compile_train_step

pytestmark = pytest.mark.slow  # trains tiny models and runs the command line in child processes (~30 s)

LENGTHS = {"inputs": 6, "targets": 6}
CHECKPOINT_STEP = 1000
SCHEDULE = warmup_rsqrt_decay(base_learning_rate=0.01, warmup_steps=10)
OPTIMIZER = Adafactor(learning_rate=SCHEDULE, min_dim_size_to_factor=4)


def _params() -> dict:
    boxed = boxed_params(model=TinySeq2Seq(dropout_rate=0.0), rng=jax.random.key(3),
                         input_shapes=model_input_shapes(task_feature_lengths=LENGTHS, batch_size=1))
    return jax.tree.map(np.asarray, meta.unbox(boxed))


def _write_t5x_checkpoint(folder, params) -> dict:
    """A T5X `checkpoint` file (version 3, inline arrays): target, state/step, state/param_states/<path>/v_*."""
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    statistics = jax.tree.map(lambda x: rng.uniform(0.5, 2.0, size=x.shape).astype(np.float32),
                              jax.eval_shape(OPTIMIZER.init, params))
    flat_params = traverse_util.flatten_dict(params)
    param_states = {}
    for key in flat_params:
        stats = {name: traverse_util.flatten_dict(getattr(statistics, name))[key] for name in ("v_row", "v_col", "v")}
        param_states[key] = {**stats, "m": np.zeros((1,), np.float32)}
    state = {"step": np.asarray(CHECKPOINT_STEP, np.int32), "param_states": traverse_util.unflatten_dict(param_states)}
    contents = {"version": 3, "optimizer": {"target": params, "state": state}}
    with open(os.path.join(folder, "checkpoint"), "wb") as handle:
        handle.write(serialization.msgpack_serialize(contents))
    return statistics


def _train(model_dir, *, train_steps, **kwargs):
    return train(model_dir=str(model_dir), model=TinySeq2Seq(dropout_rate=0.0), optimizer=OPTIMIZER,
                 partitioner=make_partitioner(num_partitions=1), train_data=make_batches(count=4),
                 task_feature_lengths=LENGTHS, train_steps=train_steps, log_period=1, **kwargs)


def test_a_t5x_checkpoint_continues_at_its_step_with_its_adafactor_statistics(tmp_path, capsys):
    params = _params()
    statistics = _write_t5x_checkpoint(tmp_path / "checkpoint_1000", params)
    t5x_state = initial_optimizer_state(path=str(tmp_path / "checkpoint_1000"), checkpoint_format="t5x")
    assert t5x_state.step == CHECKPOINT_STEP and initial_optimizer_state(path="x", checkpoint_format="hf") is None

    # TRAIN_STEPS equal to the checkpoint's step: nothing to train, the state is the checkpoint's.
    state = _train(tmp_path / "same", train_steps=CHECKPOINT_STEP, pretrained_params=params,
                   pretrained_optimizer_state=t5x_state)
    assert int(state.step) == CHECKPOINT_STEP and int(state.opt_state.count) == CHECKPOINT_STEP
    for name in ("v_row", "v_col", "v"):
        for got, want in zip(jax.tree.leaves(getattr(state.opt_state, name)), jax.tree.leaves(getattr(statistics, name)),
                             strict=True):
            np.testing.assert_array_equal(np.asarray(got), want)
    assert f"at its step {CHECKPOINT_STEP}" in capsys.readouterr().out

    # TRAIN_STEPS = 1000 + 2: two fine-tuning steps, the schedule continuing from step 1000 as in T5X.
    model_dir = tmp_path / "two_more"
    state = _train(model_dir, train_steps=CHECKPOINT_STEP + 2, pretrained_params=params,
                   pretrained_optimizer_state=load_t5x_optimizer_state(path=str(tmp_path / "checkpoint_1000")))
    assert int(state.step) == CHECKPOINT_STEP + 2
    records = [line for line in (model_dir / "metrics.jsonl").read_text().splitlines() if '"train"' in line]
    assert len(records) == 2
    first = json.loads(records[0])
    assert first["step"] == CHECKPOINT_STEP + 1
    assert first["learning_rate"] == pytest.approx(float(SCHEDULE(CHECKPOINT_STEP)), rel=1e-6)
    assert sorted(os.listdir(model_dir / "checkpoints")) == [str(CHECKPOINT_STEP + 2)]


def test_statistics_of_another_shape_are_refused_by_name(tmp_path):
    params = _params()
    _write_t5x_checkpoint(tmp_path / "checkpoint_1000", params)
    t5x_state = load_t5x_optimizer_state(path=str(tmp_path / "checkpoint_1000"))
    unfactored = Adafactor(learning_rate=0.01, factored=False)
    with pytest.raises(ValueError, match=r"state/param_states/.*kernel/v_row has shape \(\d+,\); .* keeps v_row of shape \(1,\)"):
        unfactored.state_from_t5x(params=params, step=t5x_state.step, param_states=t5x_state.param_states,
                                  source="ckpt")


def test_a_checkpoint_without_a_step_starts_at_zero_and_says_so(tmp_path, capsys):
    state = _train(tmp_path / "hf", train_steps=2, pretrained_params=_params())
    assert int(state.step) == 2
    assert "at step 0 (the checkpoint has no step or optimizer state" in capsys.readouterr().out


# --- gin: T5X's names, and a setting nothing uses stops the run -------------------------------------------------

TINY_GIN = f"""
from __gin__ import dynamic_registration
include '{GIN_DIR / "runs" / "finetune.gin"}'
include '{GIN_DIR / "partitioning" / "1d.gin"}'
from personalize.training import finetune
import tiny_seq2seq

MODEL = @tiny_seq2seq.TinySeq2Seq()
tiny_seq2seq.TinySeq2Seq.dropout_rate = %DROPOUT_RATE
finetune.train.train_data = @tiny_seq2seq.make_batches()
tiny_seq2seq.make_batches.count = 3
finetune.train.validation_data = None
"""


def _tiny_gin(tmp_path):
    gin_file = tmp_path / "tiny.gin"
    gin_file.write_text(TINY_GIN)
    model_dir = tmp_path / "model"
    bindings = [f"MODEL_DIR = '{model_dir}'", "MIXTURE_OR_TASK_NAME = 'unused'",
                "TASK_FEATURE_LENGTHS = {'inputs': 6, 'targets': 6}", "TRAIN_STEPS = 1"]
    return str(gin_file), model_dir, bindings


@pytest.mark.parametrize("binding", ["NOT_A_T5X_MACRO = 3", "INITIAL_CHECKPOINT = '/models/t5'"])
def test_a_setting_nothing_uses_stops_train_before_any_work(tmp_path, binding):
    gin_file, model_dir, bindings = _tiny_gin(tmp_path)
    with pytest.raises(SystemExit, match=binding.split(" ")[0]):
        run_gin("train", [gin_file], bindings + [binding])
    assert not model_dir.exists()


def test_a_setting_nothing_uses_in_a_users_gin_file_stops_train(tmp_path):
    gin_file, model_dir, bindings = _tiny_gin(tmp_path)
    users_file = tmp_path / "mine.gin"
    users_file.write_text(f"include '{gin_file}'\nLOSS_NORMALISING_FACTOR = 233472\n")
    with pytest.raises(SystemExit, match="LOSS_NORMALISING_FACTOR is set but nothing in the configuration uses it"):
        run_gin("train", [str(users_file)], bindings)
    assert not model_dir.exists()


def test_z_loss_and_label_smoothing_are_t5x_macros(tmp_path):
    gin_file, model_dir, bindings = _tiny_gin(tmp_path)
    bindings += ["Z_LOSS = 0.0", "LABEL_SMOOTHING = 0.1", "INITIAL_CHECKPOINT_PATH = None"]
    state = run_gin("train", [gin_file], bindings)
    assert int(state.step) == 1
    config = (model_dir / "config.gin").read_text()
    assert "LABEL_SMOOTHING = 0.1" in config and "finetune.train.label_smoothing = %LABEL_SMOOTHING" in config
    assert "Z_LOSS = 0.0" in config and "finetune.train.z_loss = %Z_LOSS" in config


def _cli(*args, cwd):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.run([sys.executable, "-m", "personalize.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_the_cli_refuses_an_unused_setting_for_train_and_experiment(tmp_path):
    train = _cli("train", "--gin_file=models/t5_1_1/small.gin", "--gin_file=runs/finetune.gin",
                 f"--gin.MODEL_DIR='{tmp_path / 'model'}'", "--gin.NOT_A_T5X_MACRO=3", cwd=tmp_path)
    assert train.returncode != 0 and "NOT_A_T5X_MACRO" in train.stderr
    experiment = _cli("experiment", "--dataset", "demo", "--output_dir", str(tmp_path / "experiment"),
                      "--gin.NOT_A_T5X_MACRO=3", cwd=tmp_path)
    assert experiment.returncode != 0 and "NOT_A_T5X_MACRO" in experiment.stderr
    assert not (tmp_path / "model").exists() and not (tmp_path / "experiment").exists()


# --- loss normalization ----------------------------------------------------------------------------------------

def _logits_and_batch(*, packed=False):
    rng = np.random.default_rng(1)
    targets = np.array([[5, 6, 7, 1, 0, 0], [8, 1, 0, 0, 0, 0]], np.int32)
    batch = {"decoder_target_tokens": jnp.asarray(targets),
             "decoder_loss_weights": jnp.asarray((targets > 0).astype(np.float32))}
    if packed:  # row 0: two segments (3 and 1 tokens); row 1: one segment of 2 tokens
        targets = np.array([[5, 6, 1, 9, 0, 0], [8, 1, 0, 0, 0, 0]], np.int32)
        batch = {"decoder_target_tokens": jnp.asarray(targets),
                 "decoder_loss_weights": jnp.asarray((targets > 0).astype(np.float32)),
                 "decoder_segment_ids": jnp.asarray([[1, 1, 1, 2, 0, 0], [1, 1, 0, 0, 0, 0]], np.int32),
                 "decoder_positions": jnp.asarray([[0, 1, 2, 0, 0, 0], [0, 1, 0, 0, 0, 0]], np.int32)}
    return jnp.asarray(rng.normal(size=(2, 6, 11)).astype(np.float32)), batch


def _per_token_loss(logits, targets, *, z_loss=0.0, label_smoothing=0.0):
    """T5X's compute_weighted_cross_entropy per token, in numpy: soft targets, minus their entropy, plus z-loss."""
    logits = np.asarray(logits, np.float64)
    vocab = logits.shape[-1]
    log_z = np.log(np.exp(logits).sum(-1))
    log_softmax = logits - log_z[..., None]
    confidence, low = 1.0 - label_smoothing, label_smoothing / (vocab - 1)
    soft = np.full(logits.shape, low)
    np.put_along_axis(soft, np.asarray(targets)[..., None], confidence, axis=-1)
    constant = -(confidence * np.log(confidence) + (vocab - 1) * low * np.log(low + 1e-20))
    return -(soft * log_softmax).sum(-1) - constant + z_loss * log_z ** 2


@pytest.mark.parametrize("mode, expected_factor", [(None, 1.0), (233472, 233472.0),
                                                   ("NUM_REAL_TARGET_TOKENS", 6.0),
                                                   ("num_total_target_tokens", 12.0)])
def test_loss_normalizing_factor_as_t5x(mode, expected_factor):
    logits, batch = _logits_and_batch()
    per_token = _per_token_loss(logits, batch["decoder_target_tokens"], z_loss=1e-4, label_smoothing=0.1)
    weights = np.asarray(batch["decoder_loss_weights"])
    loss, metrics = objective(logits=logits, batch=batch, z_loss=1e-4, label_smoothing=0.1,
                              loss_normalizing_factor=mode)
    assert float(loss) == pytest.approx((per_token * weights).sum() / expected_factor, rel=1e-5)
    assert float(metrics["tokens"]) == 6.0


@pytest.mark.parametrize("packed", [False, True])
def test_average_per_sequence_weighs_every_sequence_the_same(packed):
    logits, batch = _logits_and_batch(packed=packed)
    per_token = _per_token_loss(logits, batch["decoder_target_tokens"])
    sequences = [[(0, 0), (0, 1), (0, 2), (0, 3)], [(1, 0), (1, 1)]]
    if packed:
        sequences = [[(0, 0), (0, 1), (0, 2)], [(0, 3)], [(1, 0), (1, 1)]]
    expected = np.mean([np.mean([per_token[i] for i in sequence]) for sequence in sequences])
    loss, _ = objective(logits=logits, batch=batch, z_loss=0.0, label_smoothing=0.0,
                        loss_normalizing_factor="AVERAGE_PER_SEQUENCE")
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    factor, _ = factor_and_weights(batch=batch, loss_normalizing_factor="AVERAGE_PER_SEQUENCE")
    assert float(factor) == len(sequences)


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="NUM_REAL_TARGET_TOKENS"):
        objective(logits=jnp.zeros((1, 1, 3)), batch={"decoder_target_tokens": jnp.ones((1, 1), jnp.int32)},
                  z_loss=0.0, label_smoothing=0.0, loss_normalizing_factor="PER_TOKEN")


def _first_step_loss(*, batch, num_microbatches, mode):
    partitioner = make_partitioner(num_partitions=1)
    model = TinySeq2Seq(dropout_rate=0.0)
    shapes = model_input_shapes(task_feature_lengths=LENGTHS, batch_size=8)
    shardings, _ = state_shardings(model=model, optimizer=OPTIMIZER, input_shapes=shapes, mesh=partitioner.mesh,
                                   rules=partitioner.rules)
    state = initialize_state(model=model, optimizer=OPTIMIZER, input_shapes=shapes, rng=jax.random.key(1),
                             shardings=shardings, mesh=partitioner.mesh, rules=partitioner.rules)
    step = compile_train_step(model=model, optimizer=OPTIMIZER, shardings=shardings, mesh=partitioner.mesh,
                              rules=partitioner.rules, loss_normalizing_factor=mode, num_microbatches=num_microbatches)
    _, metrics = step(state, global_batch(local_batch=batch, mesh=partitioner.mesh, rules=partitioner.rules),
                      jax.random.key(0))
    return float(metrics["loss"])


def test_microbatches_are_normalized_each_as_t5x_does():
    whole = make_batches(count=1, batch_size=16, seed=4)[0]
    # Microbatch i holds examples i, i + 2, ... (see split_microbatches).
    halves = [{name: value[i::2] for name, value in whole.items()} for i in range(2)]
    mode = "NUM_REAL_TARGET_TOKENS"
    expected = sum(_first_step_loss(batch=half, num_microbatches=1, mode=mode) for half in halves)
    assert _first_step_loss(batch=whole, num_microbatches=2, mode=mode) == pytest.approx(expected, rel=1e-5)
    # None: a sum, whatever the microbatching.
    summed = _first_step_loss(batch=whole, num_microbatches=1, mode=None)
    assert _first_step_loss(batch=whole, num_microbatches=2, mode=None) == pytest.approx(summed, rel=1e-5)
    tokens = float(whole["decoder_loss_weights"].sum())
    assert summed > tokens  # a sum over tokens, each above 1 nat here, not a per-token mean


def _dropout_run(model_dir, *, use_hardware_rng: bool) -> list[np.ndarray]:
    state = train(model_dir=str(model_dir), model=TinySeq2Seq(dropout_rate=0.5), optimizer=OPTIMIZER,
                  partitioner=make_partitioner(num_partitions=1), train_data=make_batches(count=3),
                  task_feature_lengths=LENGTHS, train_steps=3, log_period=1, use_hardware_rng=use_hardware_rng)
    return [np.asarray(leaf) for leaf in jax.tree.leaves(state.params)]


def test_hardware_rng_as_t5x_draws_other_bits_and_repeats_on_the_same_mesh(tmp_path):
    hardware = _dropout_run(tmp_path / "rbg", use_hardware_rng=True)
    again = _dropout_run(tmp_path / "rbg-again", use_hardware_rng=True)
    threefry = _dropout_run(tmp_path / "threefry", use_hardware_rng=False)
    assert all(np.isfinite(leaf).all() for leaf in hardware)
    assert all(np.array_equal(a, b) for a, b in zip(hardware, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(hardware, threefry, strict=True))
