"""SumCtx: the context-dependent summarizer's training data, from weak labels on the ranked contexts."""

from __future__ import annotations

from typing import Any, Callable

from personalize.pipeline.ranked import RankedDataset
from personalize.summarization.seq2seq_examples import SUMMARIZER_INSTRUCTION, ranked_text, write_weak_label_examples
from personalize.summarization.weak_labels import TextEncoder, default_snippet_splitter, summary_weak_label


def write_sumctx_examples(
    *,
    ranked_dir: str,
    output_dir: str,
    encoder: TextEncoder,
    strategy: str = "RankDocBySnpt",
    split_snippets: Callable[[str], list[str]] | None = None,
    seed: int = 0,
    by: str = "user",
) -> dict[str, Any]:
    """Weak-labelled SumCtx examples over one ranking strategy's contexts (the paper: the best ranking).

    Every snippet is encoded up front in one batched call (memory: one vector per distinct snippet), not one
    small call per example.
    """
    from personalize.pipeline.rank_contexts import PrefetchedEncoder

    splitter = split_snippets or default_snippet_splitter()
    ranked = RankedDataset(ranked_dir)
    encoder = PrefetchedEncoder(encoder)
    encoder.prefetch([snippet for split in ranked.splits for record in ranked.examples(split)
                      for text in (record["target"], ranked_text(record=record, strategy=strategy))
                      for snippet in splitter(text)])

    def label(record) -> str:
        return summary_weak_label(target=record["target"], ranked_text=ranked_text(record=record, strategy=strategy),
                                  encoder=encoder, split_snippets=splitter)

    return write_weak_label_examples(ranked=ranked, strategy=strategy, variant="SumCtx",
                                     instruction=SUMMARIZER_INSTRUCTION, label=label, output_dir=output_dir,
                                     seed=seed, by=by)
