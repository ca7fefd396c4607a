"""Encoding many texts fast: length bucketing, packing, fixed-shape jit batches, data-parallel sharding, progress.

Dense retrieval encodes every past document and snippet of every user (millions of texts for Amazon and Reddit).
Texts are sorted by token length and each batch is padded to one of a few bucket lengths, so jit compiles once
per bucket instead of once per batch and short texts do not pay for long ones; with several devices each batch
is split over a one-axis `data` mesh.

Models that can (`SentenceModel.packed_embed_fn`) also get several texts packed into one row: a row holds its
longest text and then as many of the shortest remaining texts as fit, each attending only to itself. The dense
layers, most of the encoder's time, then run on less padding (4% instead of 11% of the tokens of 512 blog posts
in batches of 64), for some extra attention work on the short texts, which see the row's length of keys.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any, Protocol, Sequence, TextIO

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


def _longest_first(*, lengths: Sequence[int], bucket_lengths: Sequence[int]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted buckets, lengths, text indices longest first, ties by index); fails on a text no bucket holds."""
    buckets = np.asarray(sorted(bucket_lengths))
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.size and lengths.max() > buckets[-1]:
        raise ValueError(f"a text has {lengths.max()} tokens, more than the largest bucket {buckets[-1]}")
    return buckets, lengths, np.lexsort((np.arange(lengths.size), -lengths))


def bucket_batches(*, lengths: Sequence[int], batch_size: int, bucket_lengths: Sequence[int]
                   ) -> list[tuple[np.ndarray, int]]:
    """Text indices, longest first, in batches of batch_size, each with its padded length: the smallest bucket
    that holds its longest text.

    Consecutive texts of similar length share a batch, so padding stays small, and only the last batch is short.
    """
    buckets, lengths, order = _longest_first(lengths=lengths, bucket_lengths=bucket_lengths)
    batches = []
    for start in range(0, order.size, batch_size):
        members = order[start:start + batch_size]
        longest = lengths[members[0]]
        batches.append((members, int(buckets[np.searchsorted(buckets, longest, side="left")])))
    return batches


@dataclasses.dataclass(frozen=True)
class PackedBatch:
    """Texts packed into `rows` rows of `length` tokens: text `members[i]` fills row `row[i]` from token
    `offset[i]` on and is that row's `slot[i]`-th text (0-based)."""

    members: np.ndarray
    row: np.ndarray
    offset: np.ndarray
    slot: np.ndarray
    rows: int
    length: int


def texts_per_row(length: int) -> int:
    """How many texts a packed row of `length` tokens may hold: enough to fill it with texts of 8 tokens on
    average; each slot costs a pass over the row in pooling and a vector in the output."""
    return max(1, length // 8)


def pack_batches(*, lengths: Sequence[int], batch_size: int, bucket_lengths: Sequence[int]) -> list[PackedBatch]:
    """Longest text first, each row of a batch takes the longest remaining text, then the shortest remaining ones
    while they fit (at most `texts_per_row`); a batch has batch_size rows (the last one fewer) padded to the
    smallest bucket that holds its longest text.

    Linear in the number of texts; the gaps left by long texts are filled by the shortest ones, which is where
    padding would otherwise go.
    """
    buckets, lengths, order = _longest_first(lengths=lengths, bucket_lengths=bucket_lengths)
    batches = []
    first, last = 0, lengths.size - 1
    while first <= last:
        length = int(buckets[np.searchsorted(buckets, lengths[order[first]], side="left")])
        slots = texts_per_row(length)
        # (text, row, offset, slot) of every member of this batch.
        placed: list[tuple[int, int, int, int]] = []
        rows = 0
        while rows < batch_size and first <= last:
            placed.append((order[first], rows, 0, 0))
            used, count = int(lengths[order[first]]), 1
            first += 1
            while first <= last and count < slots and used + lengths[order[last]] <= length:
                placed.append((order[last], rows, used, count))
                used, count = used + int(lengths[order[last]]), count + 1
                last -= 1
            rows += 1
        members, row, offset, slot = (np.asarray(column, dtype=np.int64) for column in zip(*placed))
        batches.append(PackedBatch(members=members, row=row, offset=offset, slot=slot, rows=rows, length=length))
    return batches


def batch_rows(*, count: int, batch_size: int, multiple: int) -> int:
    """Rows to pad a batch of `count` rows to: batch_size when full, else the next power of two (a multiple of
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
    """Encodes texts with a `SentenceModel` on all local devices; implements `TextEncoder`.

    `batch_size` is the number of rows per batch: with packing (the default where the model supports it, `pack`)
    a row can hold several short texts, so memory per batch stays bounded by batch_size x bucket length.
    """

    def __init__(self, *, model: SentenceModel, batch_size: int = 64, bucket_lengths: Sequence[int] | None = None,
                 pack: bool = True, devices: Sequence[jax.Device] | None = None, progress_min_texts: int = 10_000,
                 progress_interval_s: float = 10.0, progress_stream: TextIO | None = None):
        max_seq_length = model.tokenizer.max_seq_length
        self.bucket_lengths = tuple(sorted(bucket_lengths or default_bucket_lengths(max_seq_length=max_seq_length)))
        if self.bucket_lengths[-1] < max_seq_length:
            raise ValueError(f"largest bucket {self.bucket_lengths[-1]} is shorter than max_seq_length "
                             f"{max_seq_length}; texts would not fit")
        devices = list(devices or jax.devices())
        self.model = model
        self.pack = pack and model.packed_embed_fn is not None
        # Every batch splits evenly over the devices.
        self._device_count = len(devices)
        self.batch_size = -(-batch_size // len(devices)) * len(devices)
        self.progress_min_texts = progress_min_texts
        self.progress_interval_s = progress_interval_s
        self.progress_stream = progress_stream or sys.stderr
        jit_options: dict[str, Any] = {}
        if len(devices) > 1:
            mesh = Mesh(np.asarray(devices), ("data",))
            self._data_sharding = NamedSharding(mesh, PartitionSpec("data", None))
            replicated = NamedSharding(mesh, PartitionSpec())
            self._params = jax.device_put(model.params, replicated)
            jit_options.update(in_shardings=(replicated, self._data_sharding, self._data_sharding),
                               out_shardings=self._data_sharding)
        else:
            self._data_sharding = None
            self._params = jax.device_put(model.params, devices[0])
        if devices[0].platform == "cpu" and model.cpu_compiler_options:
            jit_options["compiler_options"] = dict(model.cpu_compiler_options)
        self._embed = jax.jit(model.embed_fn, **jit_options)
        self._embed_packed = (jax.jit(model.packed_embed_fn, static_argnums=3, **jit_options)
                              if self.pack else None)

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
        lengths = [len(i) for i in ids]
        if self.pack:
            launches = (self._launch_packed(ids, batch) for batch in pack_batches(
                lengths=lengths, batch_size=self.batch_size, bucket_lengths=self.bucket_lengths))
        else:
            launches = (self._launch(ids, members, length) for members, length in bucket_batches(
                lengths=lengths, batch_size=self.batch_size, bucket_lengths=self.bucket_lengths))
        progress = _Progress(total=len(texts), enabled=len(texts) >= self.progress_min_texts,
                             interval=self.progress_interval_s, stream=self.progress_stream)
        pending: _Launched | None = None
        done = 0
        for launched in launches:
            # Collect the previous batch only after dispatching this one, so the host pads while the device runs.
            if pending is not None:
                done += pending.collect(out)
                progress.update(done=done)
            pending = launched
        if pending is not None:
            done += pending.collect(out)
        progress.update(done=done, final=True)
        return out

    def _launch(self, ids: list[list[int]], members: np.ndarray, length: int) -> _Launched:
        """One text per row."""
        rows = batch_rows(count=members.size, batch_size=self.batch_size, multiple=self._device_count)
        token_ids = np.full((rows, length), PAD_ID, dtype=np.int32)
        mask = np.zeros((rows, length), dtype=bool)
        for row, index in enumerate(members):
            token_ids[row, :len(ids[index])] = ids[index]
            mask[row, :len(ids[index])] = True
        result = self._embed(self._params, *self._to_devices(token_ids, mask))
        return _Launched(members=members, result=result, index=(np.arange(members.size),))

    def _launch_packed(self, ids: list[list[int]], batch: PackedBatch) -> _Launched:
        """Several texts per row; `text_ids` numbers them 1, 2, ... within their row, 0 on padding."""
        rows = batch_rows(count=batch.rows, batch_size=self.batch_size, multiple=self._device_count)
        token_ids = np.full((rows, batch.length), PAD_ID, dtype=np.int32)
        text_ids = np.zeros((rows, batch.length), dtype=np.int32)
        for index, row, offset, slot in zip(batch.members, batch.row, batch.offset, batch.slot):
            token_ids[row, offset:offset + len(ids[index])] = ids[index]
            text_ids[row, offset:offset + len(ids[index])] = slot + 1
        result = self._embed_packed(self._params, *self._to_devices(token_ids, text_ids),
                                    texts_per_row(batch.length))
        return _Launched(members=batch.members, result=result, index=(batch.row, batch.slot))

    def _to_devices(self, *arrays: np.ndarray) -> tuple[np.ndarray | jax.Array, ...]:
        if self._data_sharding is None:
            return arrays
        return tuple(jax.device_put(a, self._data_sharding) for a in arrays)


@dataclasses.dataclass(frozen=True)
class _Launched:
    """A dispatched batch: `result` (still computing) holds the vector of text `members[i]` at
    `result[index][i]`."""

    members: np.ndarray
    result: jax.Array
    index: tuple[np.ndarray, ...]

    def collect(self, out: np.ndarray) -> int:
        out[self.members] = np.asarray(self.result, dtype=np.float32)[self.index]
        return self.members.size
