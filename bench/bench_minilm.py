"""Throughput of our JAX MiniLM encoder against sentence-transformers (PyTorch) on CPU, same texts, same threads.

    python bench/bench_minilm.py CORPUS [--texts 512] [--batch-size 64] [--threads 2] [--cpu-devices auto] [--rounds 3]

CORPUS is what the ranking stage would encode: the document texts (title and body, as RankDocDense embeds them)
of either a prepared dataset (`--prepared_dir DIR`) or a corpus file read by one of the project's loaders
(`--corpus PATH --format jsonl|amazon|reddit|email|lamp|longlamp [--fields MAPPING]`, as `personalize prepare`),
or the generated demo corpus (`--format demo`). The first `--texts` documents are used, and the first output line
says which texts they were and how many; a corpus with fewer texts than asked for is used whole and said so.
For example, the blog corpus:

    .venv/bin/python bench/bench_minilm.py --corpus ../shared/data/blog-authorship/posts.jsonl --format jsonl \
        --fields user_id=author_id,body=text,timestamp=date --skip_bad

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
import itertools
import os
import sys
import time


def _pin_threads(threads: int) -> list[int]:
    cores = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cores)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    return cores


def _load_texts(args: argparse.Namespace) -> tuple[list[str], str]:
    """(the first `--texts` document texts of the corpus named by the arguments, where they came from)."""
    from personalize.corpus.errors import RecordReport
    from personalize.corpus.sources import load_documents
    from personalize.preparation.dataset import PreparedDataset
    from personalize.retrieval.document_text import document_text

    if args.prepared_dir:
        documents, source = PreparedDataset(args.prepared_dir).documents(), f"prepared dataset {args.prepared_dir}"
    else:
        report = RecordReport(source=args.corpus or args.format, skip_bad=args.skip_bad)
        documents = load_documents(format=args.format, paths=[args.corpus] if args.corpus else [], report=report,
                                   fields=args.fields)
        source = f"{args.corpus} (format {args.format})" if args.corpus else f"the generated {args.format} corpus"
    try:
        texts = [text for text in (document_text(d).strip() for d in itertools.islice(documents, args.texts)) if text]
    except ValueError as error:  # a bad record (file, line, field) or a bad format/field mapping
        raise SystemExit(f"bench_minilm: {error}" + ("" if args.skip_bad else "; --skip_bad counts and skips bad records"))
    if not args.prepared_dir and report.total_skipped:
        source += f", {report.total_skipped} bad records skipped"
    if not texts:
        raise SystemExit(f"bench_minilm: {source} has no document text to encode")
    return texts, source


def _corpus_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if bool(args.prepared_dir) == bool(args.format):
        parser.error("name the texts to encode: --prepared_dir DIR, or --format FORMAT [--corpus PATH]")
    if args.format and args.format != "demo" and not args.corpus:
        parser.error(f"--format {args.format} reads a corpus file: give --corpus PATH")


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
    parser.add_argument("--prepared_dir", help="a prepared dataset (`personalize prepare`): its documents' texts")
    parser.add_argument("--corpus", help="a corpus file, read with the loader of --format")
    parser.add_argument("--format", help="the corpus format, as `personalize prepare --format` (demo: generated)")
    parser.add_argument("--fields", help="format jsonl: the field mapping, e.g. user_id=author_id,body=text")
    parser.add_argument("--skip_bad", action="store_true", help="count and skip bad records instead of failing")
    args = parser.parse_args(argv)
    _corpus_arguments(parser, args)

    cores = _pin_threads(args.threads)
    from personalize.partitioning.cpu_devices import resolve_cpu_devices, split_cpu_into_devices

    cpu_devices = split_cpu_into_devices(count=resolve_cpu_devices(args.cpu_devices))
    import jax
    import numpy as np
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    from personalize.retrieval.dense.encode import DenseEncoder
    from personalize.retrieval.dense.minilm import default_minilm_path, load_minilm

    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    texts, source = _load_texts(args)
    shortfall = f" (the corpus has only {len(texts)}, fewer than --texts {args.texts})" if len(texts) < args.texts else ""
    print(f"TEXTS: {len(texts)} document texts from {source}{shortfall}", flush=True)
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
