"""SumCtx: the context-dependent summarizer's training data, from weak labels on the ranked contexts."""

from __future__ import annotations

from typing import Any

from personalize.pipeline.ranked import RankedDataset
from personalize.ranking.context import ENTRY_SEPARATOR
from personalize.summarization.seq2seq_examples import SUMMARIZER_INSTRUCTION, ranked_text, write_weak_label_examples
from personalize.summarization.weak_labels import TextEncoder, entry_snippets, summary_weak_label, text_snippets


def write_sumctx_examples(
    *,
    ranked_dir: str,
    output_dir: str,
    encoder: TextEncoder,
    strategy: str = "RankDocBySnpt",
    seed: int = 0,
    by: str = "user",
) -> dict[str, Any]:
    """Weak-labelled SumCtx examples over one ranking strategy's contexts (the paper: the best ranking).

    The candidates of a label are each ranked entry's own snippets (`entry_snippets`). Every snippet is encoded up
    front in one batched call (memory: one vector per distinct snippet), not one small call per example.
    """
    from personalize.pipeline.rank_contexts import PrefetchedEncoder

    ranked = RankedDataset(ranked_dir)
    separator = ranked.manifest.get("settings", {}).get("separator", ENTRY_SEPARATOR)

    def snippets(record) -> tuple[list[str], list[list[str]]]:
        ranked_text(record=record, strategy=strategy)  # a clear error for a record without this strategy
        try:
            entries = entry_snippets(context=record["contexts"][strategy], separator=separator)
        except ValueError as error:
            raise ValueError(f"{ranked_dir}: example {record['example_id']!r}, {strategy}: {error}") from None
        return text_snippets(record["target"]), entries

    by_example = {record["example_id"]: snippets(record) for split in ranked.splits for record in ranked.examples(split)}
    encoder = PrefetchedEncoder(encoder)
    encoder.prefetch([snippet for target, entries in by_example.values()
                      for snippet in [*target, *(s for entry in entries for s in entry)]])

    def label(record) -> str:
        target, entries = by_example[record["example_id"]]
        return summary_weak_label(target_snippets=target, entries=entries, encoder=encoder)

    return write_weak_label_examples(ranked=ranked, strategy=strategy, variant="SumCtx",
                                     instruction=SUMMARIZER_INSTRUCTION, label=label, output_dir=output_dir,
                                     seed=seed, by=by)
