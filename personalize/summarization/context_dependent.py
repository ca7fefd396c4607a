"""SumCtx: the context-dependent summarizer's training data, from weak labels on the ranked contexts."""

from __future__ import annotations

from typing import Any, Mapping

from personalize.corpus.document import Document
from personalize.pipeline.ranked import RankedDataset
from personalize.preparation.dataset import PreparedDataset
from personalize.summarization.seq2seq_examples import SUMMARIZER_INSTRUCTION, ranked_text, write_weak_label_examples
from personalize.summarization.weak_labels import (TextEncoder, entry_snippets, entry_text, shown_pieces,
                                                   summary_weak_label, text_snippets)


def _entries(record: Mapping[str, Any], strategy: str) -> list[str]:
    ranked_text(record=record, strategy=strategy)  # a clear error for a record without this strategy
    return list(record["contexts"][strategy]["entry_ids"])


def _entry_documents(*, ranked: RankedDataset, strategy: str, prepared_dir: str) -> dict[str, Document]:
    """The prepared documents the ranked entries come from (a snippet entry 'doc_id#k' needs 'doc_id')."""
    needed = {name for split in ranked.splits for record in ranked.examples(split)
              for entry_id in _entries(record, strategy) for name in (entry_id, entry_id.rpartition("#")[0])}
    return {d.doc_id: d for d in PreparedDataset(prepared_dir).documents() if d.doc_id in needed}


def _example_snippets(*, record: Mapping[str, Any], strategy: str, separator: str,
                      documents: Mapping[str, Document], where: str) -> tuple[list[str], list[list[str]]]:
    """(d_t's snippets, each ranked entry's own snippets as far as the context shows it)."""
    entry_ids = _entries(record, strategy)
    try:
        texts = [entry_text(entry_id=entry_id, documents=documents) for entry_id in entry_ids]
        pieces = shown_pieces(context=ranked_text(record=record, strategy=strategy), texts=texts, separator=separator)
    except (KeyError, ValueError) as error:
        raise ValueError(f"{where}: example {record['example_id']!r}, {strategy}: the context is not its entries' "
                         f"texts joined by {separator!r} ({error}); was the prepared dataset changed after "
                         "ranking?") from None
    return (text_snippets(record["target"]),
            [entry_snippets(entry_id=e, piece=p, documents=documents) for e, p in zip(entry_ids, pieces)])


def write_sumctx_examples(
    *,
    ranked_dir: str,
    output_dir: str,
    encoder: TextEncoder,
    strategy: str = "RankDocBySnpt",
    prepared_dir: str | None = None,
    seed: int = 0,
    by: str = "user",
) -> dict[str, Any]:
    """Weak-labelled SumCtx examples over one ranking strategy's contexts (the paper: the best ranking).

    The entries' snippets are the ranking stage's, per entry, from the prepared documents (`prepared_dir`, by
    default the one the ranked manifest names). Every snippet is encoded up front in one batched call (memory: one
    vector per distinct snippet), not one small call per example.
    """
    from personalize.pipeline.rank_contexts import PrefetchedEncoder

    ranked = RankedDataset(ranked_dir)
    settings = ranked.manifest.get("settings", {})
    prepared_dir = prepared_dir or settings.get("prepared_dir")
    if not prepared_dir or "separator" not in settings:
        raise ValueError(f"{ranked_dir}: the ranked manifest's settings lack the entry separator or the prepared "
                         "dataset (re-run `personalize rank`, or give prepared_dir)")
    documents = _entry_documents(ranked=ranked, strategy=strategy, prepared_dir=prepared_dir)
    snippets = {record["example_id"]: _example_snippets(record=record, strategy=strategy,
                                                        separator=settings["separator"], documents=documents,
                                                        where=ranked_dir)
                for split in ranked.splits for record in ranked.examples(split)}
    encoder = PrefetchedEncoder(encoder)
    encoder.prefetch([snippet for target, entries in snippets.values()
                      for snippet in [*target, *(s for entry in entries for s in entry)]])

    def label(record) -> str:
        target, entries = snippets[record["example_id"]]
        return summary_weak_label(target_snippets=target, entry_snippets=entries, encoder=encoder)

    return write_weak_label_examples(ranked=ranked, strategy=strategy, variant="SumCtx",
                                     instruction=SUMMARIZER_INSTRUCTION, label=label, output_dir=output_dir,
                                     seed=seed, by=by)
