"""A loaded sentence encoder as data: tokenizer, parameters, a pure embedding function and a fingerprint.

`encode.DenseEncoder` only needs this record, so MiniLM, GTR and any later encoder share one batching,
sharding and caching path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Any, Callable, Protocol, Sequence

import jax
import numpy as np

# (params, token_ids [batch, length] int32, mask [batch, length] bool) -> [batch, dim] float32, L2-normalised.
EmbedFn = Callable[[Any, jax.Array, jax.Array], jax.Array]

_FINGERPRINT_EDGE_BYTES = 4 << 20


class Tokenizer(Protocol):
    max_seq_length: int

    def encode(self, texts: Sequence[str]) -> list[list[int]]: ...


@dataclasses.dataclass(frozen=True)
class SentenceModel:
    """Everything needed to turn texts into unit vectors; `name` identifies the encoder in embedding caches."""

    name: str
    tokenizer: Tokenizer
    embed_fn: EmbedFn
    params: Any
    dim: int


def fingerprint(*, path: str, files: Sequence[str], settings: str, arrays: Sequence[np.ndarray] = ()) -> str:
    """A short stable id of a model folder: its config files in full, the weights' size and first and last 4 MiB
    (hashing a multi-GB checkpoint on every start would cost more than the lookups it saves), and the settings
    that change the vectors (sequence length, dtype), plus small loaded arrays such as Dense projections."""
    digest = hashlib.sha1(settings.encode("utf-8"))
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    for name in files:
        file = os.path.join(path, name)
        if not os.path.exists(file):
            continue
        size = os.path.getsize(file)
        digest.update(f"{name}:{size}".encode("utf-8"))
        with open(file, "rb") as f:
            if size <= 2 * _FINGERPRINT_EDGE_BYTES:
                digest.update(f.read())
            else:
                digest.update(f.read(_FINGERPRINT_EDGE_BYTES))
                f.seek(size - _FINGERPRINT_EDGE_BYTES)
                digest.update(f.read())
    return digest.hexdigest()[:16]
