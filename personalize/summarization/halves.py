"""Which generation training examples train the context-dependent summarizer and synthesizer.

The paper: only half of the generation training data trains the summarizer, so its summaries on the other half are
as noisy as on validation and test. The half is drawn by hash, deterministic for a seed: by user (default; the other
half's users are then unseen by the summarizer, as test users are) or by example.
"""

from __future__ import annotations

import hashlib

MODES = ("user", "example")


def trains_summarizer(*, user_id: str, example_id: str, seed: int = 0, by: str = "user") -> bool:
    """True for the half that trains the summarizer (or synthesizer); False for the half it is applied to."""
    if by not in MODES:
        raise ValueError(f"by must be one of {MODES}, got {by!r}")
    key = user_id if by == "user" else example_id
    return int(hashlib.sha256(f"{seed}:{key}".encode("utf-8")).hexdigest(), 16) % 2 == 0


def role(*, record: dict, seed: int = 0, by: str = "user") -> str:
    """'train' (weak label is a training target) or 'apply' (the trained model writes this example's addition).

    Validation and test examples are always applied to; validation weak labels also measure the summarizer.
    """
    if record["split"] != "train":
        return "apply"
    return "train" if trains_summarizer(user_id=record["user_id"], example_id=record["example_id"], seed=seed,
                                        by=by) else "apply"
