"""The paper's Table 1 for a prepared corpus: document length, personal-context size, users and examples."""

from __future__ import annotations

from typing import Iterable

from personalize.preparation.example import Example
from personalize.preparation.splits import SPLITS


def table1_statistics(examples: Iterable[Example]) -> dict:
    users: dict[str, set] = {split: set() for split in SPLITS}
    counts = {split: 0 for split in SPLITS}
    total_chars = 0
    total_past = 0
    for example in examples:
        users[example.split].add(example.user_id)
        counts[example.split] += 1
        total_chars += len(example.target)
        total_past += len(example.context_doc_ids)
    n = sum(counts.values())
    return {
        "avg_chars_current_document": round(total_chars / n, 1) if n else 0.0,
        "avg_past_documents": round(total_past / n, 1) if n else 0.0,
        "users": {split: len(users[split]) for split in SPLITS},
        "examples": counts,
    }


def format_table1(name: str, statistics: dict) -> str:
    """A Markdown table with the paper's Table 1 columns."""
    users = " / ".join(f"{statistics['users'][s]:,}" for s in SPLITS)
    examples = " / ".join(f"{statistics['examples'][s]:,}" for s in SPLITS)
    return "\n".join(
        [
            "| dataset | avg chars of d_t | avg past docs | users train/val/test | examples train/val/test |",
            "|---|---|---|---|---|",
            f"| {name} | {statistics['avg_chars_current_document']:,.1f} | {statistics['avg_past_documents']:,.1f}"
            f" | {users} | {examples} |",
        ]
    )
