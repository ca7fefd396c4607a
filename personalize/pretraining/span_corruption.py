"""T5's span corruption objective as a pure function of a token sequence and a seed.

T5 (t5.data.preprocessors.span_corruption) drops about `noise_density` of a sequence's tokens in spans of mean
length `mean_noise_span_length`; the input keeps the other tokens with one sentinel (`<extra_id_0>`,
`<extra_id_1>`, ... = vocab_size-1, vocab_size-2, ...) in place of each dropped span, and the target lists the
sentinels, each followed by the span it replaced. The noise mask is built as in `random_spans_noise_mask`: the
noise and non-noise token counts are fixed by the length, each is cut into the same number of random segments,
and the segments alternate starting with non-noise. Here the randomness is a numpy generator seeded per
document (not TensorFlow's stateless ops), so an example depends only on its document and the seed, never on
the order documents arrive in.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

MAX_SENTINELS = 100  # T5 vocabularies carry <extra_id_0> ... <extra_id_99>


def _random_segmentation(*, num_items: int, num_segments: int, rng: np.random.Generator) -> np.ndarray:
    """Lengths of `num_segments` non-empty segments that add up to `num_items`, uniformly at random."""
    first_in_segment = np.zeros(num_items, dtype=bool)
    cut_points = rng.permutation(np.arange(num_items - 1) < num_segments - 1)
    first_in_segment[1:] = cut_points
    segment_id = np.cumsum(first_in_segment)
    return np.bincount(segment_id, minlength=num_segments)


def random_spans_noise_mask(*, length: int, noise_density: float, mean_noise_span_length: float,
                            rng: np.random.Generator) -> np.ndarray:
    """A boolean mask of `length` tokens, True for noise: round(length * noise_density) tokens (at least 1, at
    most length - 1) in round(noise / mean_noise_span_length) spans (at least 1); the first token is never noise."""
    if not 0.0 < noise_density < 1.0:
        raise ValueError(f"noise_density must be in (0, 1), got {noise_density}")
    if mean_noise_span_length < 1:
        raise ValueError(f"mean_noise_span_length must be >= 1, got {mean_noise_span_length}")
    original_length = length
    length = max(length, 2)
    num_noise_tokens = min(max(int(round(length * noise_density)), 1), length - 1)
    num_noise_spans = max(int(round(num_noise_tokens / mean_noise_span_length)), 1)
    num_nonnoise_tokens = length - num_noise_tokens
    noise_lengths = _random_segmentation(num_items=num_noise_tokens, num_segments=num_noise_spans, rng=rng)
    nonnoise_lengths = _random_segmentation(num_items=num_nonnoise_tokens, num_segments=num_noise_spans, rng=rng)
    interleaved = np.stack([nonnoise_lengths, noise_lengths], axis=1).reshape(-1)
    span_starts = np.zeros(length, dtype=np.int64)
    span_starts[np.cumsum(interleaved)[:-1]] = 1
    is_noise = np.cumsum(span_starts) % 2 == 1
    return is_noise[:original_length]


def _replace_spans_with_sentinels(*, tokens: np.ndarray, mask: np.ndarray, vocab_size: int) -> np.ndarray:
    """`tokens` with each run of masked tokens replaced by one sentinel, the first run by vocab_size - 1."""
    previous = np.concatenate([[False], mask[:-1]])
    first = mask & ~previous
    sentinels = vocab_size - np.cumsum(first)
    replaced = np.where(first, sentinels, tokens)
    return replaced[~(mask & previous)]


def span_corruption(*, tokens: Sequence[int], vocab_size: int, seed: int, noise_density: float = 0.15,
                    mean_noise_span_length: float = 3.0) -> tuple[list[int], list[int]]:
    """(inputs, targets) of T5's span corruption for one token sequence (no EOS; the task appends it).

    `vocab_size` includes the extra ids, so `<extra_id_0>` is vocab_size - 1. Same tokens and seed, same result.
    """
    array = np.asarray(tokens, dtype=np.int64)
    if array.size == 0:
        return [], []
    rng = np.random.default_rng(seed)
    mask = random_spans_noise_mask(length=array.size, noise_density=noise_density,
                                   mean_noise_span_length=mean_noise_span_length, rng=rng)
    return corrupt_with_mask(tokens=array, noise_mask=mask, vocab_size=vocab_size)


def corrupt_with_mask(*, tokens: Sequence[int], noise_mask: Sequence[bool], vocab_size: int
                      ) -> tuple[list[int], list[int]]:
    """(inputs, targets) for a given noise mask: noise spans become sentinels in the inputs; in the targets the
    kept spans become sentinels, so each sentinel is followed by the span it stands for."""
    array, mask = np.asarray(tokens, dtype=np.int64), np.asarray(noise_mask, dtype=bool)
    if array.shape != mask.shape:
        raise ValueError(f"tokens and noise_mask differ in length: {array.shape} vs {mask.shape}")
    spans = int((mask & ~np.concatenate([[False], mask[:-1]])).sum())
    if spans > MAX_SENTINELS:
        raise ValueError(f"{array.size} tokens give {spans} noise spans, more than the {MAX_SENTINELS} sentinels; "
                         "split documents into shorter chunks (chunk_tokens_for)")
    inputs = _replace_spans_with_sentinels(tokens=array, mask=mask, vocab_size=vocab_size)
    targets = _replace_spans_with_sentinels(tokens=array, mask=~mask, vocab_size=vocab_size)
    return inputs.tolist(), targets.tolist()


def example_seed(*, seed: int, key: str) -> int:
    """A 64-bit seed from the run's seed and an example's key (user/document/chunk/copy): order-independent."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode("utf-8")).digest()[:8], "little")


def lengths_after_corruption(*, tokens_length: int, noise_density: float,
                             mean_noise_span_length: float) -> tuple[int, int]:
    """(inputs, targets) lengths, EOS included, of a corrupted sequence of `tokens_length` tokens."""
    num_noise_tokens = int(round(tokens_length * noise_density))
    num_noise_spans = int(round(num_noise_tokens / mean_noise_span_length))
    return (tokens_length - num_noise_tokens + num_noise_spans + 1, num_noise_tokens + num_noise_spans + 1)


def chunk_tokens_for(*, inputs_length: int, noise_density: float, mean_noise_span_length: float) -> int:
    """The longest chunk whose corrupted input still fits `inputs_length` (T5's random_spans_helper: 512 -> 568)."""
    tokens_length = inputs_length - 1
    while lengths_after_corruption(tokens_length=tokens_length + 1, noise_density=noise_density,
                                   mean_noise_span_length=mean_noise_span_length)[0] <= inputs_length:
        tokens_length += 1
    return tokens_length
