"""UserID's extra training examples: the paper trains the UserID baseline on val/test users' documents too.

Kept simple and leak-free: a validation or test user contributes the documents strictly earlier than all of
their own validation/test examples, each as a (immediate context -> document) example, with the same target
rule as preparation (a body longer than `min_target_chars`).
"""

from __future__ import annotations

from typing import Iterator

from personalize.preparation.dataset import PreparedDataset
from personalize.preparation.immediate_context import immediate_context


def held_out_user_examples(
    *, prepared_dir: str, min_target_chars: int = 300, immediate_context_chars: int = 150
) -> Iterator[dict]:
    """Example records (the ranked format's example_id, user_id, immediate_context, target) of val/test users."""
    dataset = PreparedDataset(prepared_dir)
    cutoff: dict[str, float] = {}
    for split in ("validation", "test"):
        for example in dataset.examples(split):
            cutoff[example.user_id] = min(example.timestamp, cutoff.get(example.user_id, float("inf")))
    for document in dataset.documents():
        if document.user_id not in cutoff or document.timestamp >= cutoff[document.user_id]:
            continue
        if len(document.body) <= min_target_chars:
            continue
        yield {
            "example_id": f"userid-extra:{document.user_id}:{document.doc_id}",
            "user_id": document.user_id,
            "doc_id": document.doc_id,
            "timestamp": document.timestamp,
            "immediate_context": immediate_context(title=document.title, body=document.body, num_chars=immediate_context_chars),
            "target": document.body,
        }
