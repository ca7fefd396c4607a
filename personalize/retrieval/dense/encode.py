"""Encoding many texts fast: length bucketing, fixed-shape jit batches, data-parallel sharding, progress.

Dense retrieval encodes every past document and snippet of every user (millions of texts for Amazon and Reddit).
Texts are sorted by token length and each batch is padded to one of a few bucket lengths, so jit compiles once
per bucket instead of once per batch and short texts do not pay for long ones; with several devices each batch
is split over a one-axis `data` mesh.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, Sequence, TextIO

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from personalize.retrieval.dense.sentence_model import SentenceModel
from personalize.retrieval.dense.tokenizer import PAD_ID


class TextEncoder(Protocol):
    """What the ranking stage needs from a dense encoder."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """[n] texts -> [n, dim] float32, rows L2-normalised, in input order."""
        ...


def default_bucket_lengths(*, max_seq_length: int, smallest: int = 16) -> tuple[int, ...]:
    """Powers of two and 1.5 times powers of two (16, 24, 32, 48, ...) up to, and ending at, max_seq_length:
    at most a third of a batch is padding, with two compiled lengths per doubling."""
    lengths = []
    length = smallest
    while length < max_seq_length:
        lengths.extend(x for x in (length, length * 3 // 2) if x < max_seq_length)
        length *= 2
    lengths.append(max_seq_length)
    return tuple(lengths)


def bucket_batches(*, lengths: Sequence[int], batch_size: int, bucket_lengths: Sequence[int]
                   ) -> list[tuple[np.ndarray, int]]:
    """Text indices, longest first, in batches of batch_size, each with its padded length: the smallest bucket
    that holds its longest text.

    Consecutive texts of similar length share a batch, so padding stays small, and only the last batch is short.
    """
    buckets = np.asarray(sorted(bucket_lengths))
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.size and lengths.max() > buckets[-1]:
        raise ValueError(f"a text has {lengths.max()} tokens, more than the largest bucket {buckets[-1]}")
    order = np.lexsort((np.arange(lengths.size), -lengths))
    batches = []
    for start in range(0, order.size, batch_size):
        members = order[start:start + batch_size]
        longest = lengths[members[0]]
        batches.append((members, int(buckets[np.searchsorted(buckets, longest, side="left")])))
    return batches


def batch_rows(*, count: int, batch_size: int, multiple: int) -> int:
    """Rows to pad a batch of `count` texts to: batch_size when full, else the next power of two (a multiple of
    the device count), so a short last batch costs little and adds at most log2(batch_size) compiled shapes."""
    rows = 1
    while rows < count:
        rows *= 2
    rows = -(-rows // multiple) * multiple
    return min(rows, batch_size)


class _Progress:
    """Prints texts/s and ETA to stderr at most every `interval` seconds, only for long runs."""

    def __init__(self, *, total: int, enabled: bool, interval: float, stream: TextIO):
        self.total, self.enabled, self.interval, self.stream = total, enabled, interval, stream
        self.start = self.last = time.monotonic()

    def update(self, *, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.last < self.interval):
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        print(f"dense encode: {done:,}/{self.total:,} texts, {rate:,.1f} texts/s, ETA {eta:,.0f}s",
              file=self.stream, flush=True)


class DenseEncoder:
    """Encodes texts with a `SentenceModel` on all local devices; implements `TextEncoder`."""

    def __init__(self, *, model: SentenceModel, batch_size: int = 64, bucket_lengths: Sequence[int] | None = None,
                 devices: Sequence[jax.Device] | None = None, progress_min_texts: int = 10_000,
                 progress_interval_s: float = 10.0, progress_stream: TextIO | None = None):
        max_seq_length = model.tokenizer.max_seq_length
        self.bucket_lengths = tuple(sorted(bucket_lengths or default_bucket_lengths(max_seq_length=max_seq_length)))
        if self.bucket_lengths[-1] < max_seq_length:
            raise ValueError(f"largest bucket {self.bucket_lengths[-1]} is shorter than max_seq_length "
                             f"{max_seq_length}; texts would not fit")
        devices = list(devices or jax.devices())
        self.model = model
        # Every batch splits evenly over the devices.
        self._device_count = len(devices)
        self.batch_size = -(-batch_size // len(devices)) * len(devices)
        self.progress_min_texts = progress_min_texts
        self.progress_interval_s = progress_interval_s
        self.progress_stream = progress_stream or sys.stderr
        if len(devices) > 1:
            mesh = Mesh(np.asarray(devices), ("data",))
            self._data_sharding = NamedSharding(mesh, PartitionSpec("data", None))
            replicated = NamedSharding(mesh, PartitionSpec())
            self._params = jax.device_put(model.params, replicated)
            self._embed = jax.jit(model.embed_fn, in_shardings=(replicated, self._data_sharding, self._data_sharding),
                                  out_shardings=self._data_sharding)
        else:
            self._data_sharding = None
            self._params = jax.device_put(model.params, devices[0])
            self._embed = jax.jit(model.embed_fn)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def dim(self) -> int:
        return self.model.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.model.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.model.tokenizer.encode(texts)
        batches = bucket_batches(lengths=[len(i) for i in ids], batch_size=self.batch_size,
                                 bucket_lengths=self.bucket_lengths)
        progress = _Progress(total=len(texts), enabled=len(texts) >= self.progress_min_texts,
                             interval=self.progress_interval_s, stream=self.progress_stream)
        pending: tuple[np.ndarray, jax.Array] | None = None
        done = 0
        for members, length in batches:
            rows = batch_rows(count=members.size, batch_size=self.batch_size, multiple=self._device_count)
            token_ids = np.full((rows, length), PAD_ID, dtype=np.int32)
            mask = np.zeros((rows, length), dtype=bool)
            for row, index in enumerate(members):
                token_ids[row, :len(ids[index])] = ids[index]
                mask[row, :len(ids[index])] = True
            if self._data_sharding is not None:
                token_ids = jax.device_put(token_ids, self._data_sharding)
                mask = jax.device_put(mask, self._data_sharding)
            result = self._embed(self._params, token_ids, mask)
            # Collect the previous batch only after dispatching this one, so the host pads while the device runs.
            if pending is not None:
                done += self._collect(pending, out)
                progress.update(done=done)
            pending = (members, result)
        if pending is not None:
            done += self._collect(pending, out)
        progress.update(done=done, final=True)
        return out

    @staticmethod
    def _collect(pending: tuple[np.ndarray, jax.Array], out: np.ndarray) -> int:
        members, result = pending
        out[members] = np.asarray(result, dtype=np.float32)[: members.size]
        return members.size
