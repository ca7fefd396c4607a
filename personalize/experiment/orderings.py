"""The paper's orderings of rows, checked on this run's predictions with a paired t-test (p < 0.01).

The paper's claims are relations between rows, not absolute scores: a ranked context beats the immediate context,
RankDocBySnpt is at least as good as recency, each addition (summary, keywords, author distinction) is at least as
good as the row it extends. Each claim here reads "holds" only when the test says so: a strict claim (`>`) needs the
row significantly better on ROUGE-1 and ROUGE-L; an `>=` claim holds unless the row is significantly worse on
either.
"""

from __future__ import annotations

import json
import os
from typing import Mapping, Sequence

from personalize.metrics.significance import compare_prediction_files

METRICS = (("ROUGE-1", "rouge1"), ("ROUGE-L", "rougeL"))
RANKED_ROWS = ("RecentDoc", "RankDocBM25", "RankDocDense", "RankSnippet", "RankDocBySnpt")


def paper_orderings(*, base_ranking: str, base_summary: str, multitask_row: str) -> list[tuple[str, str, str]]:
    """(row, relation, reference) for every ordering the paper reports, on this run's base rows."""
    orderings = [(row, ">", "ImmedCtx") for row in RANKED_ROWS]
    orderings.append(("RankDocBySnpt", ">=", "RecentDoc"))
    orderings.append((f"+{base_summary}", ">=", base_ranking))
    orderings.append(("+SynCtx", ">=", f"+{base_summary}"))
    orderings.append(("+AuthorPred", ">=", multitask_row))
    return orderings


def _verdict(relation: str, tests: Sequence[Mapping]) -> str:
    better = [t["significant"] and t["mean_second"] > t["mean_first"] for t in tests]
    worse = [t["significant"] and t["mean_second"] < t["mean_first"] for t in tests]
    if relation == ">":
        if all(better):
            return "holds"
        return "does not hold (significantly worse)" if any(worse) else "not shown (not significant)"
    return "does not hold (significantly worse)" if any(worse) else "holds"


def check_orderings(*, predictions: Mapping[str, str], base_ranking: str, base_summary: str, multitask_row: str,
                    alpha: float = 0.01) -> list[dict]:
    """One record per ordering whose two rows both ran: the mean difference and p-value per metric, and the verdict."""
    records = []
    for row, relation, reference in paper_orderings(base_ranking=base_ranking, base_summary=base_summary,
                                                    multitask_row=multitask_row):
        if row not in predictions or reference not in predictions or row == reference:
            continue
        report = compare_prediction_files(baseline_path=predictions[reference], candidate_path=predictions[row],
                                          alpha=alpha)
        tests = [report[key] for _, key in METRICS]
        records.append({
            "claim": f"{row} {relation} {reference}", "row": row, "relation": relation, "reference": reference,
            "difference": {name: report[key]["mean_second"] - report[key]["mean_first"]
                           for name, key in METRICS},
            "p": {name: report[key]["p"] for name, key in METRICS},
            "verdict": _verdict(relation, tests),
        })
    return records


def format_p(p: float) -> str:
    """Two significant digits; a p-value that underflowed to 0 (scipy's t distribution at a huge t) is shown as a
    bound, since "0" would claim certainty."""
    return "< 1e-300" if p == 0 else f"{p:.2g}"


def format_orderings(records: Sequence[Mapping], *, title: str) -> str:
    """Markdown: one line per ordering, with the differences in ROUGE points and the p-values."""
    lines = [f"### {title}: the paper's orderings", "",
             "| claim | Δ ROUGE-1 | p | Δ ROUGE-L | p | here |", "|---|---|---|---|---|---|"]
    for record in records:
        cells = []
        for name, _ in METRICS:
            cells += [f"{record['difference'][name]:+.2f}", format_p(record["p"][name])]
        lines.append(f"| {record['claim']} | " + " | ".join(cells) + f" | {record['verdict']} |")
    lines += ["", "Δ: the row's mean per-example score minus the reference's, in points; p: paired t-test. `>` holds "
              "when the row is better on ROUGE-1 and ROUGE-L with p < 0.01; `>=` holds unless it is worse with "
              "p < 0.01 on either."]
    return "\n".join(lines)


def write_orderings(records: Sequence[Mapping], *, output_dir: str, title: str) -> str:
    """Writes orderings.md (the table) and orderings.json (the records); returns the Markdown path."""
    path = os.path.join(output_dir, "orderings.md")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(format_orderings(records, title=title) + "\n")
    with open(os.path.join(output_dir, "orderings.json"), "w", encoding="utf-8") as handle:
        json.dump(list(records), handle, indent=1)
    return path
