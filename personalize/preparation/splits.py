"""Deterministic splits: by user (the paper) or by time within each user (LongLaMP's temporal setting)."""

from __future__ import annotations

import hashlib
from typing import Iterable, Sequence

SPLITS = ("train", "validation", "test")


def _seeded_rank(key: str, seed: int) -> str:
    return hashlib.sha1(f"{seed}:{key}".encode("utf-8")).hexdigest()


def _split_sizes(count: int, fractions: Sequence[float]) -> tuple[int, int, int]:
    """Train / validation / test sizes; validation and test get at least one each once count >= 3."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must be three non-negative numbers summing to 1, got {tuple(fractions)}")
    n_val = round(count * fractions[1])
    n_test = round(count * fractions[2])
    if count >= 3:
        n_val = max(n_val, 1 if fractions[1] > 0 else 0)
        n_test = max(n_test, 1 if fractions[2] > 0 else 0)
    n_val = min(n_val, count)
    n_test = min(n_test, count - n_val)
    return count - n_val - n_test, n_val, n_test


def split_users(user_ids: Iterable[str], *, fractions: Sequence[float] = (0.85, 0.05, 0.10), seed: int = 0) -> dict[str, str]:
    """Assigns every user to exactly one split: users ordered by a seeded hash, then cut by the fractions."""
    ordered = sorted(set(user_ids), key=lambda user: (_seeded_rank(user, seed), user))
    n_train, n_val, _ = _split_sizes(len(ordered), fractions)
    assignment = {}
    for index, user in enumerate(ordered):
        assignment[user] = "train" if index < n_train else "validation" if index < n_train + n_val else "test"
    return assignment


def split_by_time(num_examples: int, *, fractions: Sequence[float] = (0.85, 0.05, 0.10)) -> list[str]:
    """Split names for one user's examples in time order: the latest go to test, the ones before to validation."""
    n_train, n_val, n_test = _split_sizes(num_examples, fractions)
    return ["train"] * n_train + ["validation"] * n_val + ["test"] * n_test


def choose_examples(example_ids: Sequence[str], *, limit: int, seed: int) -> set[str]:
    """A deterministic, seed-dependent choice of at most `limit` ids (independent of input order)."""
    ranked = sorted(example_ids, key=lambda key: (_seeded_rank(key, seed), key))
    return set(ranked[:limit])
