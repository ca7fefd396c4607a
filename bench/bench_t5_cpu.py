"""CPU throughput of our Flax T5 against transformers' PyTorch T5, same weights, measured in one run.

1. Training step (forward + backward + Adafactor update), target tokens per second:
   ours: one jax.jit step with optax.adafactor; reference: T5ForConditionalGeneration + transformers' Adafactor.
2. Beam search (4 beams), decoded tokens per second (batch x decode length; EOS is disabled on both sides so that
   both run exactly max_decode_length steps): ours `personalize.decoding.generate` vs `model.generate(num_beams=4)`.

Prints absolute numbers and the ratios (goals: training >= 1.5x, decoding >= 2x). Runs are interleaved and the
median of the repeats is reported, because the machine may be shared.

    .venv/bin/python bench/bench_t5_cpu.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch
import transformers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from personalize.decoding.generate import generate  # noqa: E402
from personalize.models.t5.checkpoint_import import load_hf_t5  # noqa: E402
from personalize.models.t5.loss import cross_entropy_loss  # noqa: E402
from personalize.models.t5.network import Transformer  # noqa: E402

HF_CONFIG = dict(vocab_size=32128, d_model=256, d_kv=64, num_heads=4, d_ff=1024, num_layers=2, num_decoder_layers=2,
                 feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.1)
BATCH, INPUT_LENGTH, TARGET_LENGTH = 8, 128, 64
DECODE_BATCH, DECODE_INPUT_LENGTH, DECODE_LENGTH, BEAMS = 8, 64, 32, 4


def _timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _batch(rng: np.random.Generator):
    inputs = rng.integers(2, HF_CONFIG["vocab_size"], size=(BATCH, INPUT_LENGTH))
    targets = rng.integers(2, HF_CONFIG["vocab_size"], size=(BATCH, TARGET_LENGTH))
    decoder_inputs = np.concatenate([np.zeros((BATCH, 1), np.int64), targets[:, :-1]], axis=1)
    return inputs, decoder_inputs, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps_per_repeat", type=int, default=3)
    args = parser.parse_args()

    torch.manual_seed(0)
    hf_model = transformers.T5ForConditionalGeneration(transformers.T5Config(**HF_CONFIG))
    with tempfile.TemporaryDirectory() as folder:
        hf_model.save_pretrained(folder)
        config, params = load_hf_t5(path=folder, dtype="float32")
    model = Transformer(config)
    params = jax.tree_util.tree_map(jnp.asarray, params)
    inputs, decoder_inputs, targets = _batch(np.random.default_rng(0))

    # --- ours: jit-compiled training step ---
    tx = optax.adafactor(learning_rate=1e-3)
    opt_state = tx.init(params)

    @jax.jit
    def train_step(params, opt_state, rng, inputs, decoder_inputs, targets):
        def loss_fn(p):
            logits = model.apply({"params": p}, inputs, decoder_inputs, targets, enable_dropout=True,
                                 rngs={"dropout": rng})
            return cross_entropy_loss(logits=logits, targets=targets, z_loss=1e-4).loss

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    jax_batch = [jnp.asarray(x, jnp.int32) for x in (inputs, decoder_inputs, targets)]
    state = {"params": params, "opt": opt_state, "rng": jax.random.PRNGKey(0)}

    def ours_train():
        for _ in range(args.steps_per_repeat):
            state["rng"], rng = jax.random.split(state["rng"])
            state["params"], state["opt"], loss = train_step(state["params"], state["opt"], rng, *jax_batch)
        jax.block_until_ready(loss)

    # --- reference: PyTorch training step ---
    hf_model.train()
    torch_optimizer = transformers.optimization.Adafactor(hf_model.parameters(), lr=1e-3, relative_step=False,
                                                          scale_parameter=False, warmup_init=False)
    torch_inputs = torch.tensor(inputs)
    torch_labels = torch.tensor(targets)
    torch_decoder_inputs = torch.tensor(decoder_inputs)

    def torch_train():
        for _ in range(args.steps_per_repeat):
            torch_optimizer.zero_grad()
            loss = hf_model(input_ids=torch_inputs, decoder_input_ids=torch_decoder_inputs, labels=torch_labels).loss
            loss.backward()
            torch_optimizer.step()

    ours_train()  # compile
    torch_train()  # warm up
    ours_times, torch_times = [], []
    for _ in range(args.repeats):
        ours_times += _timed(ours_train, 1)
        torch_times += _timed(torch_train, 1)
    tokens = BATCH * TARGET_LENGTH * args.steps_per_repeat
    ours_tps = tokens / statistics.median(ours_times)
    torch_tps = tokens / statistics.median(torch_times)

    # --- decoding: beam 4, EOS disabled on both sides ---
    decode_inputs = inputs[:DECODE_BATCH, :DECODE_INPUT_LENGTH]
    eval_params = jax.tree_util.tree_map(jnp.asarray, _params_of(hf_model))
    hf_model.eval()

    def ours_decode():
        result = generate(model=model, params=eval_params, encoder_input_tokens=decode_inputs,
                          max_decode_length=DECODE_LENGTH, num_beams=BEAMS, alpha=0.6, eos_id=-1)
        jax.block_until_ready(result.sequences)

    torch_decode_inputs = torch.tensor(decode_inputs)

    def torch_decode():
        with torch.no_grad():
            hf_model.generate(input_ids=torch_decode_inputs, attention_mask=torch.ones_like(torch_decode_inputs),
                              num_beams=BEAMS, max_new_tokens=DECODE_LENGTH, min_new_tokens=DECODE_LENGTH,
                              do_sample=False, length_penalty=0.6, decoder_start_token_id=0, pad_token_id=0,
                              eos_token_id=1)

    ours_decode()  # compile
    torch_decode()  # warm up
    ours_decode_times, torch_decode_times = [], []
    for _ in range(args.repeats):
        ours_decode_times += _timed(ours_decode, 1)
        torch_decode_times += _timed(torch_decode, 1)
    decoded = DECODE_BATCH * DECODE_LENGTH
    ours_dps = decoded / statistics.median(ours_decode_times)
    torch_dps = decoded / statistics.median(torch_decode_times)

    print(f"model: d_model {HF_CONFIG['d_model']}, {HF_CONFIG['num_layers']}+{HF_CONFIG['num_decoder_layers']} layers, "
          f"d_ff {HF_CONFIG['d_ff']} gated-GELU, vocab {HF_CONFIG['vocab_size']}, float32; "
          f"jax {jax.__version__} ({jax.devices()[0].platform}), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads)")
    print(f"training  (batch {BATCH}, inputs {INPUT_LENGTH}, targets {TARGET_LENGTH}): "
          f"ours {ours_tps:,.0f} target tokens/s, transformers {torch_tps:,.0f} -> ratio {ours_tps / torch_tps:.2f}x "
          f"(goal >= 1.5x)")
    print(f"beam-{BEAMS} decoding (batch {DECODE_BATCH}, inputs {DECODE_INPUT_LENGTH}, {DECODE_LENGTH} steps): "
          f"ours {ours_dps:,.0f} tokens/s, transformers {torch_dps:,.0f} -> ratio {ours_dps / torch_dps:.2f}x "
          f"(goal >= 2x)")


def _params_of(hf_model) -> dict:
    """The current (trained-for-a-few-steps) PyTorch weights in our tree, so both decoders run the same model."""
    with tempfile.TemporaryDirectory() as folder:
        hf_model.save_pretrained(folder)
        return load_hf_t5(path=folder, dtype="float32")[1]


if __name__ == "__main__":
    main()
