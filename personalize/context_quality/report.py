"""The context-quality report: every ranking strategy against two reference contexts, as Markdown, CSV and a plot.

Rows:
  ImmedCtx     the immediate context only (title + first characters of the document): the no-context floor.
  <strategy>   each ranked context of the ranked-contexts directory.
  RandomUser   another user's ranked context (RecentDoc when present, else the first strategy), the same 2,500-character
               truncation: what text of the wrong person scores. The other user's example is drawn per example with
               `random.Random(f"{seed}:{example_id}")`, uniformly among the split's examples of other users.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
from typing import Any, Sequence

from personalize.context_quality import overlap, plot
from personalize.pipeline.ranked import RankedDataset

NO_CONTEXT = "ImmedCtx"
RANDOM_USER = "RandomUser"
COLUMNS = ("rouge1_recall", "rouge1_precision", "rouge2_recall", "rouge2_precision", "rougeL_recall",
           "rougeL_precision")
HEADERS = ("R-1 recall", "R-1 precision", "R-2 recall", "R-2 precision", "R-L recall", "R-L precision")


def _draw_donors(*, ids: list[tuple[str, str]], chosen: list[int], seed: int) -> dict[str, str]:
    """example_id -> the example_id of another user's example, for each chosen position of `ids`.

    `ids` are (user_id, example_id) sorted, so a user's examples are contiguous and a draw among the other users'
    examples is one random index that skips the user's block.
    """
    first: dict[str, int] = {}
    count: dict[str, int] = {}
    for position, (user_id, _) in enumerate(ids):
        first.setdefault(user_id, position)
        count[user_id] = count.get(user_id, 0) + 1
    donors = {}
    for position in chosen:
        user_id, example_id = ids[position]
        others = len(ids) - count[user_id]
        if others == 0:
            raise ValueError(f"the split has one user only ({user_id!r}); a RandomUser context needs two")
        draw = random.Random(f"{seed}:{example_id}").randrange(others)
        donors[example_id] = ids[draw if draw < first[user_id] else draw + count[user_id]][1]
    return donors


def context_quality(*, ranked_dir: str, split: str = "test", max_examples: int | None = None,
                    seed: int = 0) -> list[dict[str, Any]]:
    """Mean ROUGE recall/precision (%) of each context row against the real documents of `split`.

    Streams the split three times (ids; the donors' texts; scoring), so memory holds ids and donor texts only.
    `max_examples` scores a fixed random subset; RandomUser donors are drawn from the whole split.
    """
    dataset = RankedDataset(ranked_dir)
    strategies = dataset.strategies
    if not strategies:
        raise ValueError(f"{ranked_dir}: the manifest lists no strategies")
    donor_strategy = "RecentDoc" if "RecentDoc" in strategies else strategies[0]
    ids = sorted((record["user_id"], record["example_id"]) for record in dataset.examples(split))
    if not ids:
        raise ValueError(f"{ranked_dir}: split {split!r} has no examples")
    chosen = list(range(len(ids)))
    if max_examples is not None and max_examples < len(ids):
        chosen = sorted(random.Random(seed).sample(chosen, max_examples))
    donors = _draw_donors(ids=ids, chosen=chosen, seed=seed)
    wanted = set(donors.values())
    donor_texts = {record["example_id"]: record["contexts"][donor_strategy]["text"]
                   for record in dataset.examples(split) if record["example_id"] in wanted}
    rows = [NO_CONTEXT, *strategies, RANDOM_USER]
    running = {row: overlap.OverlapMean() for row in rows}
    scorer = overlap.make_scorer()
    for record in dataset.examples(split):
        if record["example_id"] not in donors:
            continue
        contexts = {NO_CONTEXT: record["immediate_context"]}
        for strategy in strategies:
            if strategy not in record["contexts"]:
                raise ValueError(f"{ranked_dir}: example {record['example_id']} has no {strategy} context")
            contexts[strategy] = record["contexts"][strategy]["text"]
        contexts[RANDOM_USER] = donor_texts[donors[record["example_id"]]]
        for row, text in contexts.items():
            running[row].add(scores=overlap.context_overlap(scorer=scorer, target=record["target"], context=text),
                             context=text)
    return [{"context": row, "examples": running[row].examples, **running[row].means()} for row in rows]


def to_markdown(*, rows: Sequence[dict[str, Any]], title: str) -> str:
    lines = [f"### {title}", "",
             "| context | examples | mean chars | " + " | ".join(HEADERS) + " |",
             "|---|---:|---:|" + "---:|" * len(HEADERS)]
    for row in rows:
        cells = [row["context"], str(row["examples"]), f"{row['context_chars']:.0f}"]
        cells += [f"{row[column]:.2f}" for column in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_csv(*, rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["context", "examples", "context_chars", *COLUMNS])
    for row in rows:
        writer.writerow([row["context"], row["examples"], f"{row['context_chars']:.1f}",
                         *(f"{row[column]:.4f}" for column in COLUMNS)])
    return buffer.getvalue()


def write_context_quality_report(*, ranked_dir: str, output_dir: str, split: str = "test",
                                 max_examples: int | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """Writes context_quality.{md,csv,json,png} to output_dir and returns the rows."""
    rows = context_quality(ranked_dir=ranked_dir, split=split, max_examples=max_examples, seed=seed)
    os.makedirs(output_dir, exist_ok=True)
    name = os.path.basename(os.path.normpath(ranked_dir))
    title = f"Context quality, {split} split of {name} (ROUGE vs the real document, %)"
    with open(os.path.join(output_dir, "context_quality.md"), "w", encoding="utf-8") as handle:
        handle.write(to_markdown(rows=rows, title=title))
    with open(os.path.join(output_dir, "context_quality.csv"), "w", encoding="utf-8") as handle:
        handle.write(to_csv(rows=rows))
    with open(os.path.join(output_dir, "context_quality.json"), "w", encoding="utf-8") as handle:
        json.dump({"ranked_dir": ranked_dir, "split": split, "max_examples": max_examples, "seed": seed,
                   "rows": rows}, handle, indent=1)
        handle.write("\n")
    plot.bar_plot(rows=rows, columns=COLUMNS, labels=HEADERS, title=title,
                  path=os.path.join(output_dir, "context_quality.png"))
    return rows
