"""An on-disk embedding cache: every distinct text is encoded once per encoder, across runs.

Each ranking strategy, the snippet retriever and the SumCtx weak labels embed the same past documents again and
again; the cache makes the second and later passes free. Layout, one folder per encoder identity:

    DIRECTORY/ENCODER_NAME/meta.json                 {"encoder": ..., "dim": ...}
    DIRECTORY/ENCODER_NAME/shard-<id>.npy            [rows, dim] float32
    DIRECTORY/ENCODER_NAME/shard-<id>.sha1           one hex sha1 (of the UTF-8 text) per row

Each file is written to a temporary name and renamed into place; the .sha1 index is renamed last, so a shard
exists for readers only when both files are complete. Several processes may add shards to the same folder.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import uuid
from typing import Protocol, Sequence

import numpy as np


class NamedEncoder(Protocol):
    """A `TextEncoder` with a stable identity (`name`) and output width (`dim`), such as `DenseEncoder`."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def text_key(text: str) -> str:
    """The cache key of one text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _write_atomically(path: str, write) -> None:
    tmp = f"{path}.tmp-{uuid.uuid4().hex}"
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class EmbeddingCache:
    """Embeddings of one encoder, keyed by text sha1, stored as .npy shards plus .sha1 row indexes.

    Shards are memory-mapped; only the key -> (shard, row) index lives in memory.
    """

    def __init__(self, *, directory: str, encoder_name: str, dim: int):
        if not encoder_name or os.sep in encoder_name or encoder_name.startswith("."):
            raise ValueError(f"encoder_name must be a plain folder name, got {encoder_name!r}")
        self.folder = os.path.join(directory, encoder_name)
        self.dim = dim
        os.makedirs(self.folder, exist_ok=True)
        meta_file = os.path.join(self.folder, "meta.json")
        meta = {"encoder": encoder_name, "dim": dim}
        if os.path.exists(meta_file):
            with open(meta_file, encoding="utf-8") as f:
                found = json.load(f)
            if found != meta:
                raise ValueError(f"{meta_file}: holds {found}, but this cache was opened with {meta}")
        else:
            _write_atomically(meta_file, lambda f: f.write(json.dumps(meta).encode("utf-8")))
        self._shards: list[np.ndarray] = []
        self._index: dict[str, tuple[int, int]] = {}
        for index_file in sorted(glob.glob(os.path.join(self.folder, "shard-*.sha1"))):
            self._load_shard(index_file)

    def _load_shard(self, index_file: str) -> None:
        array_file = index_file[: -len(".sha1")] + ".npy"
        with open(index_file, encoding="ascii") as f:
            keys = f.read().split()
        vectors = np.load(array_file, mmap_mode="r")
        if vectors.shape != (len(keys), self.dim) or vectors.dtype != np.float32:
            raise ValueError(f"{array_file}: shape {vectors.shape} {vectors.dtype} does not match "
                             f"{len(keys)} keys of dim {self.dim} float32 in {index_file}")
        shard = len(self._shards)
        self._shards.append(vectors)
        for row, key in enumerate(keys):
            self._index.setdefault(key, (shard, row))

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: str) -> bool:
        return key in self._index

    def get(self, keys: Sequence[str]) -> np.ndarray:
        """[n] cached keys -> [n, dim]; a missing key is a KeyError."""
        out = np.empty((len(keys), self.dim), dtype=np.float32)
        if not keys:
            return out
        locations = np.asarray([self._index[key] for key in keys], dtype=np.int64).reshape(-1, 2)
        for shard in np.unique(locations[:, 0]):
            selected = np.flatnonzero(locations[:, 0] == shard)
            out[selected] = self._shards[shard][locations[selected, 1]]
        return out

    def add(self, *, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Stores new rows as one shard; keys already cached are skipped."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(keys), self.dim):
            raise ValueError(f"expected vectors of shape {(len(keys), self.dim)}, got {vectors.shape}")
        fresh = {}
        for i, key in enumerate(keys):
            if key not in self._index and key not in fresh:
                fresh[key] = i
        if not fresh:
            return
        stem = os.path.join(self.folder, f"shard-{uuid.uuid4().hex}")
        rows = np.ascontiguousarray(vectors[list(fresh.values())])
        _write_atomically(stem + ".npy", lambda f: np.save(f, rows))
        _write_atomically(stem + ".sha1", lambda f: f.write("".join(k + "\n" for k in fresh).encode("ascii")))
        self._load_shard(stem + ".sha1")

    def compact(self) -> None:
        """Merges all shards on disk into one, so many small runs do not leave thousands of files behind.

        Re-reads the folder first, so shards other processes added since this cache was opened are kept.
        """
        old = sorted(glob.glob(os.path.join(self.folder, "shard-*.sha1")))
        if len(old) < 2:
            return
        self._shards, self._index = [], {}
        for index_file in old:
            self._load_shard(index_file)
        keys = list(self._index)
        vectors = self.get(keys)
        self._shards, self._index = [], {}
        self.add(keys=keys, vectors=vectors)
        for index_file in old:
            os.remove(index_file)
            os.remove(index_file[: -len(".sha1")] + ".npy")


class CachedEncoder:
    """A `TextEncoder` that encodes only texts its cache has not seen, each distinct text once."""

    def __init__(self, *, encoder: NamedEncoder, cache_dir: str):
        self.encoder = encoder
        self.cache = EmbeddingCache(directory=cache_dir, encoder_name=encoder.name, dim=encoder.dim)

    @property
    def name(self) -> str:
        return self.encoder.name

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts):
            if key not in self.cache and key not in missing:
                missing[key] = text
        if missing:
            self.cache.add(keys=list(missing), vectors=self.encoder.encode(list(missing.values())))
        return self.cache.get(keys)
