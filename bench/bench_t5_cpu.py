"""CPU throughput of the project's T5 trainer step and `generate` against transformers' PyTorch T5, one run.

1. Training step, target tokens per second. Ours is what `personalize train` runs: the step of
   `personalize.training.steps.compile_train_step` (our Adafactor with T5X's settings, z-loss 1e-4, dropout,
   gradient-norm and accuracy metrics), with the state placed by `make_partitioner(num_partitions=1)` and the batch
   passed through `global_batch`, as `personalize.training.finetune.train` does. Reference: the same weights in
   `T5ForConditionalGeneration` with transformers' Adafactor (parameter-scaled, clipped at 1.0, decay -0.8, as
   T5X's), `loss.backward()` and `optimizer.step()`.
2. Beam search (4 beams), decoded tokens per second (batch x decode length; EOS is disabled on both sides so that
   both run exactly max_decode_length steps): ours `personalize.decoding.generate` under the partitioner's mesh
   and rules, as `predict_split` calls it, vs `model.generate(num_beams=4)`.

Prints absolute numbers and the ratios ours / transformers (goals: training >= 1.5x, decoding >= 2x), per wall-clock
second (what a user waits for) and per CPU second of this process (fairer on a machine shared with other jobs). Each
side's timed runs are interleaved with the other's and the medians are reported. JAX runs on the CPU here even where
libtpu or a GPU is installed.

    .venv/bin/python bench/bench_t5_cpu.py [--repeats 5] [--steps_per_repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import jax.numpy as jnp
import numpy as np
import torch
import transformers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from personalize.decoding.generate import generate  # noqa: E402
from personalize.models.t5.checkpoint_import import load_hf_t5  # noqa: E402
from personalize.models.t5.network import Transformer  # noqa: E402
from personalize.partitioning.partitioner import make_partitioner  # noqa: E402
from personalize.partitioning.shardings import global_batch, partitioning_context  # noqa: E402
from personalize.training.adafactor import Adafactor  # noqa: E402
from personalize.training.state import TrainState, state_shardings  # noqa: E402
from personalize.training.steps import compile_train_step  # noqa: E402

HF_CONFIG = dict(vocab_size=32128, d_model=256, d_kv=64, num_heads=4, d_ff=1024, num_layers=2, num_decoder_layers=2,
                 feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.1)
BATCH, INPUT_LENGTH, TARGET_LENGTH = 8, 128, 64
DECODE_BATCH, DECODE_INPUT_LENGTH, DECODE_LENGTH, BEAMS = 8, 64, 32, 4
LEARNING_RATE, Z_LOSS = 1e-3, 1e-4


def _timed(fn) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _interleaved_medians(ours, reference, repeats: int) -> dict[str, tuple[float, float]]:
    """side -> median (wall, CPU) seconds, after one untimed run each (compilation, warm-up)."""
    ours()
    reference()
    times: dict[str, list[tuple[float, float]]] = {"ours": [], "reference": []}
    for _ in range(repeats):
        times["ours"].append(_timed(ours))
        times["reference"].append(_timed(reference))
    return {side: tuple(statistics.median(t[i] for t in runs) for i in (0, 1)) for side, runs in times.items()}


def _rates(*, label: str, unit: str, amount: int, medians: dict[str, tuple[float, float]], goal: float) -> str:
    (ours_wall, ours_cpu), (reference_wall, reference_cpu) = medians["ours"], medians["reference"]
    return (f"{label}: ours {amount / ours_wall:,.0f} {unit}/s ({amount / ours_cpu:,.0f}/CPU-s), transformers "
            f"{amount / reference_wall:,.0f} {unit}/s ({amount / reference_cpu:,.0f}/CPU-s) -> ratio "
            f"{reference_wall / ours_wall:.2f}x wall-clock, {reference_cpu / ours_cpu:.2f}x per CPU second "
            f"(goal >= {goal:g}x)")


def _batch(rng: np.random.Generator) -> dict[str, np.ndarray]:
    inputs = rng.integers(2, HF_CONFIG["vocab_size"], size=(BATCH, INPUT_LENGTH))
    targets = rng.integers(2, HF_CONFIG["vocab_size"], size=(BATCH, TARGET_LENGTH))
    decoder_inputs = np.concatenate([np.zeros((BATCH, 1), np.int64), targets[:, :-1]], axis=1)
    return {"encoder_input_tokens": inputs.astype(np.int32), "decoder_input_tokens": decoder_inputs.astype(np.int32),
            "decoder_target_tokens": targets.astype(np.int32)}


def _weights_of(hf_model) -> tuple[object, dict]:
    """(our T5 config, our param tree) of the PyTorch model's current weights, through the checkpoint importer."""
    with tempfile.TemporaryDirectory() as folder:
        hf_model.save_pretrained(folder)
        return load_hf_t5(path=folder, dtype="float32")


def our_train_steps(*, hf_model, batch: dict[str, np.ndarray], steps: int):
    """A callable running `steps` of the trainer's compiled step on `batch`, from the PyTorch model's weights."""
    config, params = _weights_of(hf_model)
    model = Transformer(config)
    partitioner = make_partitioner(num_partitions=1)
    mesh, rules = partitioner.mesh, partitioner.rules
    optimizer = Adafactor(learning_rate=LEARNING_RATE)
    input_shapes = {"encoder_input_tokens": (BATCH, INPUT_LENGTH), "decoder_input_tokens": (BATCH, TARGET_LENGTH)}
    shardings, _ = state_shardings(model=model, optimizer=optimizer, mesh=mesh, rules=rules, input_shapes=input_shapes)
    # As finetune.train starts from pretrained parameters: placed by the partitioner, optimizer state initialised
    # in its shards.
    params = jax.device_put(params, shardings.params)
    opt_state = jax.jit(optimizer.init, out_shardings=shardings.opt_state)(params)
    step_fn = compile_train_step(model=model, optimizer=optimizer, shardings=shardings, mesh=mesh, rules=rules,
                                 z_loss=Z_LOSS)
    state = {"state": TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=opt_state)}
    dropout_key = jax.random.key(0)

    def run() -> None:
        metrics = None
        for _ in range(steps):
            global_arrays = global_batch(local_batch=batch, mesh=mesh, rules=rules)
            state["state"], metrics = step_fn(state["state"], global_arrays, dropout_key)
        jax.block_until_ready(metrics)

    return run


def reference_train_steps(*, hf_model, batch: dict[str, np.ndarray], steps: int):
    hf_model.train()
    optimizer = transformers.optimization.Adafactor(hf_model.parameters(), lr=LEARNING_RATE, relative_step=False,
                                                    scale_parameter=True, warmup_init=False, clip_threshold=1.0,
                                                    decay_rate=-0.8)
    inputs = torch.tensor(batch["encoder_input_tokens"], dtype=torch.long)
    decoder_inputs = torch.tensor(batch["decoder_input_tokens"], dtype=torch.long)
    labels = torch.tensor(batch["decoder_target_tokens"], dtype=torch.long)

    def run() -> None:
        for _ in range(steps):
            optimizer.zero_grad()
            loss = hf_model(input_ids=inputs, decoder_input_ids=decoder_inputs, labels=labels).loss
            loss.backward()
            optimizer.step()

    return run


def our_decode(*, hf_model, inputs: np.ndarray):
    config, params = _weights_of(hf_model)
    model = Transformer(config)
    partitioner = make_partitioner(num_partitions=1)

    def run() -> None:
        with partitioning_context(mesh=partitioner.mesh, rules=partitioner.rules):
            result = generate(model=model, params=params, encoder_input_tokens=inputs,
                              max_decode_length=DECODE_LENGTH, num_beams=BEAMS, alpha=0.6, eos_id=-1)
        jax.block_until_ready(result.sequences)

    return run


def reference_decode(*, hf_model, inputs: np.ndarray):
    hf_model.eval()
    input_ids = torch.tensor(inputs, dtype=torch.long)

    def run() -> None:
        with torch.no_grad():
            hf_model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), num_beams=BEAMS,
                              max_new_tokens=DECODE_LENGTH, min_new_tokens=DECODE_LENGTH, do_sample=False,
                              length_penalty=0.6, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps_per_repeat", type=int, default=3)
    args = parser.parse_args()

    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(0)
    hf_model = transformers.T5ForConditionalGeneration(transformers.T5Config(**HF_CONFIG))
    batch = _batch(np.random.default_rng(0))

    training = _interleaved_medians(
        our_train_steps(hf_model=hf_model, batch=batch, steps=args.steps_per_repeat),
        reference_train_steps(hf_model=hf_model, batch=batch, steps=args.steps_per_repeat), args.repeats)

    # Decoding runs the PyTorch model's weights after its training steps, on both sides.
    decode_inputs = batch["encoder_input_tokens"][:DECODE_BATCH, :DECODE_INPUT_LENGTH]
    decoding = _interleaved_medians(
        our_decode(hf_model=hf_model, inputs=decode_inputs), reference_decode(hf_model=hf_model, inputs=decode_inputs),
        args.repeats)

    print(f"model: d_model {HF_CONFIG['d_model']}, {HF_CONFIG['num_layers']}+{HF_CONFIG['num_decoder_layers']} layers, "
          f"d_ff {HF_CONFIG['d_ff']} gated-GELU, vocab {HF_CONFIG['vocab_size']}, float32; "
          f"jax {jax.__version__} ({len(jax.devices())} {jax.devices()[0].platform} device(s)), "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads); median of {args.repeats} interleaved runs")
    print(_rates(label=f"training  (batch {BATCH}, inputs {INPUT_LENGTH}, targets {TARGET_LENGTH}; trainer step)",
                 unit="target tokens", amount=BATCH * TARGET_LENGTH * args.steps_per_repeat, medians=training,
                 goal=1.5))
    print(_rates(label=f"beam-{BEAMS} decoding (batch {DECODE_BATCH}, inputs {DECODE_INPUT_LENGTH}, "
                       f"{DECODE_LENGTH} steps; generate)",
                 unit="tokens", amount=DECODE_BATCH * DECODE_LENGTH, medians=decoding, goal=2))


if __name__ == "__main__":
    main()
