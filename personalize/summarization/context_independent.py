"""SumCtxInd: a summarizer trained on public summarization data, then applied to the ranked entries.

The paper fine-tunes T5-11B on CNN/DailyMail, ForumSum and Reddit TIFU-long. Any such corpus in JSONL (one
document/summary pair a line; field names configurable, e.g. CNN/DailyMail's `article`/`highlights`, TIFU's
`documents`/`tldr`) becomes a seq2seq examples directory; the ranked entries of every example become inputs to
decode. Inputs carry T5's "summarize: " prefix, the same on both sides.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from personalize.pipeline.ranked import RankedDataset
from personalize.summarization.seq2seq_examples import ranked_text, write_examples_dir

SUMMARIZE_PREFIX = "summarize: "


def read_summarization_corpus(*, path: str, document_field: str = "document", summary_field: str = "summary",
                              id_field: str | None = None) -> Iterator[dict[str, str]]:
    """Seq2seq records of a document/summary JSONL file; ids are `id_field` or the line number."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None
            for field in (document_field, summary_field):
                if not isinstance(record.get(field), str):
                    raise ValueError(f"{path}:{number}: needs a string {field!r} (has {sorted(record)})")
            yield {"example_id": str(record[id_field]) if id_field else str(number),
                   "inputs": SUMMARIZE_PREFIX + record[document_field], "targets": record[summary_field]}


def write_corpus_examples(*, train_path: str, validation_path: str | None, output_dir: str,
                          document_field: str = "document", summary_field: str = "summary",
                          id_field: str | None = None) -> dict[str, Any]:
    """A public summarization corpus as an examples directory (train, and validation when given)."""
    fields = {"document_field": document_field, "summary_field": summary_field, "id_field": id_field}
    files = {"train": read_summarization_corpus(path=train_path, **fields)}
    if validation_path:
        files["validation"] = read_summarization_corpus(path=validation_path, **fields)
    return write_examples_dir(output_dir=output_dir, variant="SumCtxInd", files=files,
                              settings={"train_path": train_path, "validation_path": validation_path, **fields})


def write_sumctxind_inputs(*, ranked_dir: str, output_dir: str, strategy: str = "RankDocBySnpt") -> dict[str, Any]:
    """The ranked entries of every example (all splits, training included) as inputs to the public summarizer."""
    ranked = RankedDataset(ranked_dir)
    files = {
        f"apply-{split}": [{"example_id": r["example_id"], "targets": "",
                            "inputs": SUMMARIZE_PREFIX + ranked_text(record=r, strategy=strategy)}
                           for r in ranked.examples(split)]
        for split in ranked.splits
    }
    return write_examples_dir(output_dir=output_dir, variant="SumCtxInd", files=files,
                              settings={"ranked_dir": ranked_dir, "strategy": strategy})
