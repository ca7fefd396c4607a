"""Writing a stage addition (SumCtxInd, SumCtx, SynCtx) from a model's predictions keyed by example_id.

The addition has the ranked dataset's shard layout. For SumCtx and SynCtx the training split holds only the half
the model did not train on (see halves.py); SumCtxInd never saw the corpus, so it covers every example.
"""

from __future__ import annotations

from typing import Any, Mapping

from personalize.pipeline.additions import VARIANT_FIELDS, write_addition
from personalize.pipeline.ranked import RankedDataset
from personalize.summarization.halves import role
from personalize.synthesis.keyword_text import parse_keywords

TRAINED_ON_WEAK_LABELS = ("SumCtx", "SynCtx")


def write_predicted_addition(
    *,
    ranked: RankedDataset,
    variant: str,
    predictions: Mapping[str, str],
    output_dir: str,
    seed: int = 0,
    by: str = "user",
) -> dict[str, Any]:
    """Writes the addition; every example it covers must have a prediction (the error names the first missing)."""
    if variant not in VARIANT_FIELDS or variant == "SynCtxInd":
        raise ValueError(f"{variant!r} is not written from predictions; use SumCtxInd, SumCtx or SynCtx")
    field = VARIANT_FIELDS[variant]
    shards: dict[str, list[list[dict[str, Any]]]] = {}
    for split in ranked.splits:
        shards[split] = []
        for index in range(len(ranked.shard_paths(split))):
            records = []
            for record in ranked.examples(split, shard=index):
                if variant in TRAINED_ON_WEAK_LABELS and role(record=record, seed=seed, by=by) == "train":
                    continue
                example_id = record["example_id"]
                if example_id not in predictions:
                    raise KeyError(f"no {variant} prediction for {split} example {example_id!r} "
                                   f"({ranked.shard_paths(split)[index]})")
                text = predictions[example_id]
                records.append({"example_id": example_id,
                                field: parse_keywords(text) if field == "keywords" else text.strip()})
            shards[split].append(records)
    return write_addition(output_dir=output_dir, variant=variant, shards=shards)
