"""SynCtx: the context-dependent synthesizer's training data, from weak-label keywords on the ranked contexts."""

from __future__ import annotations

from typing import Any

from personalize.pipeline.ranked import RankedDataset
from personalize.summarization.seq2seq_examples import ranked_text, write_weak_label_examples
from personalize.synthesis.idf import DocumentFrequencies
from personalize.synthesis.keyword_text import keywords_to_text
from personalize.synthesis.weak_labels import WordMatcher, synthesis_weak_label

SYNTHESIZER_INSTRUCTION = "List the important words of the past passages for the passage start."


def write_synctx_examples(
    *,
    ranked_dir: str,
    output_dir: str,
    frequencies: DocumentFrequencies,
    matcher: WordMatcher,
    strategy: str = "RankDocBySnpt",
    min_idf: float = 1.5,
    idf_base: str = "e",
    max_keywords: int = 20,
    seed: int = 0,
    by: str = "user",
) -> dict[str, Any]:
    """Weak-labelled SynCtx examples; targets are comma-separated keyword lists."""

    def label(record) -> str:
        return keywords_to_text(synthesis_weak_label(
            ranked_text=ranked_text(record=record, strategy=strategy), target=record["target"],
            frequencies=frequencies, matcher=matcher, min_idf=min_idf, idf_base=idf_base,
            max_keywords=max_keywords))

    return write_weak_label_examples(ranked=RankedDataset(ranked_dir), strategy=strategy, variant="SynCtx",
                                     instruction=SYNTHESIZER_INSTRUCTION, label=label, output_dir=output_dir,
                                     seed=seed, by=by)
