"""Generation examples of one experiment row: ranked records joined with their additions, rendered as text pairs.

A training example without a summary or keywords is skipped: the context-dependent summarizer is trained on
half of the training data (paper, SumCtx), so its stage may cover only the other half. A validation or test
example without one is an error, so that every row is evaluated on the same examples.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator, Mapping, Sequence

from personalize.generation.inputs import generation_input
from personalize.generation.rows import Row
from personalize.pipeline.additions import Addition
from personalize.pipeline.ranked import RankedDataset
from personalize.ranking.context import ENTRY_SEPARATOR, entry_pieces


def render_example(*, row: Row, example: Mapping[str, Any], summary: str | None = None,
                   keywords: Sequence[str] | None = None) -> dict[str, str]:
    """One ranked (or prepared) example as {"inputs", "targets", "example_id", "user_id"} for `row`, plus what
    trimming by priority needs: `inputs_head` (the inputs up to the past passages: instruction, x_t, summary,
    keywords) and `inputs_entries` (the past passages' entries in rank order, each after the first with its
    separator, so that head + "".join(entries) == inputs; `tasks.features`)."""
    past_passages, entries = None, []
    if row.ranking is not None:
        contexts = example.get("contexts") or {}
        if row.ranking not in contexts:
            raise ValueError(f"example {example['example_id']!r} has no {row.ranking!r} context; has {sorted(contexts)}")
        past_passages = contexts[row.ranking]["text"]
        pieces = entry_pieces(context=past_passages, lengths=contexts[row.ranking].get("entry_chars"))
        entries = pieces[:1] + [ENTRY_SEPARATOR + piece for piece in pieces[1:]]
    inputs = generation_input(
        immediate_context=example["immediate_context"],
        user_id=str(example["user_id"]) if row.user_id else None,
        summary=summary if row.summary else None,
        keywords=keywords if row.keywords else None,
        past_passages=past_passages,
    )
    head = inputs[:len(inputs) - len(past_passages)] if past_passages else inputs
    return {"inputs": inputs, "targets": example["target"], "example_id": str(example["example_id"]),
            "user_id": str(example["user_id"]), "inputs_head": head, "inputs_entries": entries}


class _AdditionValues:
    """Looks up one addition's values shard by shard when its shards match the ranked ones, else for the split."""

    def __init__(self, *, path: str, split: str, num_ranked_shards: int):
        self.addition = Addition(path)
        self.split = split
        self.by_shard = len(self.addition.shard_paths(split)) == num_ranked_shards
        self._whole: dict[str, Any] | None = None

    def for_shard(self, index: int) -> dict[str, Any]:
        if self.by_shard:
            return self.addition.values(self.split, shard=index)
        if self._whole is None:
            self._whole = self.addition.values(self.split)
        return self._whole


def row_examples(
    *, row: Row, ranked_dir: str, split: str, additions: Mapping[str, str] = {}, shard_order: Sequence[int] | None = None
) -> Iterator[dict[str, str]]:
    """Rendered examples of `row` for a split, ranked shards in `shard_order` (default: as listed)."""
    ranked = RankedDataset(ranked_dir)
    num_shards = len(ranked.shard_paths(split))
    lookups = {}
    for variant in (row.summary, row.keywords):
        if variant is not None:
            if variant not in additions:
                raise KeyError(f"row {row.name!r} needs the {variant!r} addition; given: {sorted(additions)}")
            lookups[variant] = _AdditionValues(path=additions[variant], split=split, num_ranked_shards=num_shards)
    skipped = 0
    for index in range(num_shards) if shard_order is None else shard_order:
        values = {variant: lookup.for_shard(index) for variant, lookup in lookups.items()}
        for example in ranked.examples(split, shard=index):
            found = {}
            for variant, by_id in values.items():
                if example["example_id"] in by_id:
                    found[variant] = by_id[example["example_id"]]
                elif split == "train":
                    break
                else:
                    raise ValueError(f"{additions[variant]}: no {variant} for {split} example {example['example_id']!r}")
            if len(found) < len(values):
                skipped += 1
                continue
            yield render_example(row=row, example=example, summary=found.get(row.summary),
                                 keywords=found.get(row.keywords))
    if skipped:
        logging.info("%s %s: skipped %d training examples without their additions", row.name, split, skipped)
