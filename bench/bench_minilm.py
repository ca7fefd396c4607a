"""Throughput of our JAX MiniLM encoder against sentence-transformers (PyTorch) on CPU, same texts, same threads.

    python bench/bench_minilm.py [--texts 512] [--batch-size 64] [--threads 2] [--cpu-devices auto] [--rounds 3]

Both sides get the same number of CPU threads: the process is pinned to `--threads` cores before either library
starts (XLA sizes its CPU thread pool from the schedulable cores) and torch.set_num_threads is set to the same
number. Ours runs twice: on one CPU device (JAX's default) and with the host split into `--cpu-devices` devices
(`personalize rank --cpu_devices`, auto by default: one per thread, at most 2), where each batch is split over
them and their executions overlap. Each side first encodes all texts once (JAX compiles its buckets, PyTorch warms up), then the rounds
alternate between the two and the best round of each is reported, as texts per wall-clock second and per CPU
second, and as the ratios ours / reference.

`--batch-size` is texts per batch for sentence-transformers, which pads each batch to its longest text, and rows
per batch for ours, which packs short texts into shared rows (each attending only to itself) and pads rows to a
few bucket lengths: the same bound on the memory of a batch, and the same vectors (the min-cosine line).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

DEFAULT_DATA = "/work/shared/data/blog-authorship/posts.jsonl"


def _pin_threads(threads: int) -> list[int]:
    cores = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cores)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    return cores


def _load_texts(*, path: str, count: int) -> tuple[list[str], str]:
    if os.path.exists(path):
        texts = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                text = json.loads(line).get("text", "").strip()
                if text:
                    texts.append(text)
                if len(texts) == count:
                    break
        return texts, path
    rng = random.Random(0)
    words = "the user wrote about books email reviews weather work family travel music a of and to in".split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(5, 300))) for _ in range(count)], "generated"


def _rates(encode, texts: list[str]) -> tuple[float, float]:
    """(texts per wall-clock second, texts per CPU second of this process); the second is the fairer number on a
    machine shared with other jobs, the first is what a user waits for."""
    wall, cpu = time.perf_counter(), time.process_time()
    encode(texts)
    return len(texts) / (time.perf_counter() - wall), len(texts) / (time.process_time() - cpu)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu-devices", default="auto", help="CPU devices for ours (as personalize rank)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args(argv)

    cores = _pin_threads(args.threads)
    from personalize.partitioning.cpu_devices import resolve_cpu_devices, split_cpu_into_devices

    cpu_devices = split_cpu_into_devices(count=resolve_cpu_devices(args.cpu_devices))
    import jax
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from personalize.retrieval.dense.encode import DenseEncoder
    from personalize.retrieval.dense.minilm import default_minilm_path, load_minilm

    torch.set_num_threads(args.threads)
    texts, source = _load_texts(path=args.data, count=args.texts)
    path = default_minilm_path()
    model = load_minilm(path=path)
    ours = {"1 device": DenseEncoder(model=model, batch_size=args.batch_size, devices=jax.devices()[:1]),
            f"{cpu_devices} devices": DenseEncoder(model=model, batch_size=args.batch_size)}
    reference = SentenceTransformer(path, device="cpu")

    def encode_reference(batch: list[str]) -> np.ndarray:
        with torch.inference_mode():
            return reference.encode(batch, batch_size=args.batch_size, convert_to_numpy=True)

    reference_vectors = encode_reference(texts)
    min_cosine = min(float(np.min(np.sum(encoder.encode(texts) * reference_vectors, axis=1)))
                     for encoder in ours.values())
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in [*ours, "reference"]}
    for _ in range(args.rounds):
        for name, encoder in ours.items():
            rates[name].append(_rates(encoder.encode, texts))
        rates["reference"].append(_rates(encode_reference, texts))
    best = {name: tuple(max(r[i] for r in measured) for i in (0, 1)) for name, measured in rates.items()}
    reference_wall, reference_cpu = best.pop("reference")
    tokens = sum(len(ids) for ids in model.tokenizer.encode(texts))
    print(f"texts: {len(texts)} from {source}, {tokens / len(texts):.0f} tokens/text on average (max 256)")
    print(f"threads: {args.threads} (cores {cores}; torch {torch.get_num_threads()}, jax {jax.devices()[0].platform})"
          f", batch size {args.batch_size}, best of {args.rounds} rounds")
    print(f"min cosine ours vs reference: {min_cosine:.6f}")
    print(f"sentence-transformers (PyTorch): {reference_wall:8.1f} texts/s wall, {reference_cpu:8.1f} texts/CPU-s")
    for name, (wall, cpu) in best.items():
        print(f"ours (JAX), {name + ':':<19} {wall:8.1f} texts/s wall, {cpu:8.1f} texts/CPU-s;"
              f" ratio ours / reference {wall / reference_wall:.2f}x wall-clock, {cpu / reference_cpu:.2f}x per CPU second")

if __name__ == "__main__":
    sys.exit(main())
