"""A loaded sentence encoder as data: tokenizer, parameters, a pure embedding function and a fingerprint.

`encode.DenseEncoder` only needs this record, so MiniLM, GTR and any later encoder share one batching,
sharding and caching path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Any, Callable, Mapping, Protocol, Sequence

import jax
import numpy as np

# (params, token_ids [batch, length] int32, mask [batch, length] bool) -> [batch, dim] float32, L2-normalised.
EmbedFn = Callable[[Any, jax.Array, jax.Array], jax.Array]
# (params, token_ids [rows, length] int32, text_ids [rows, length] int32, texts_per_row: int, static)
#   -> [rows, texts_per_row, dim] float32, L2-normalised: several texts packed per row, text_ids numbering them
#   1, 2, ... within each row (0 on padding); slots with no text come out as zeros.
PackedEmbedFn = Callable[[Any, jax.Array, jax.Array, int], jax.Array]

_FINGERPRINT_EDGE_BYTES = 4 << 20


class Tokenizer(Protocol):
    max_seq_length: int

    def encode(self, texts: Sequence[str]) -> list[list[int]]: ...


@dataclasses.dataclass(frozen=True)
class SentenceModel:
    """Everything needed to turn texts into unit vectors; `name` identifies the encoder in embedding caches.

    `packed_embed_fn`, where the encoder can keep packed texts apart (attention and positions per text), lets
    `encode.DenseEncoder` pack short texts into shared rows instead of padding them; `cpu_compiler_options` are
    XLA options measured to speed this encoder up on CPU, passed to its jit on CPU devices only."""

    name: str
    tokenizer: Tokenizer
    embed_fn: EmbedFn
    params: Any
    dim: int
    packed_embed_fn: PackedEmbedFn | None = None
    cpu_compiler_options: Mapping[str, Any] | None = None


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
