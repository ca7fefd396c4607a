"""The results table: BLEU / ROUGE-1 / ROUGE-2 / ROUGE-L per row, computed from prediction files.

Significance follows the paper (paired t-test, p < 0.01) against reference rows: a row better than
ImmedCtx carries `*`, better than RecentDoc carries `†`. The paper's numbers for the counterpart
dataset stand beside ours for orientation, never in place of them.
"""

from __future__ import annotations

import csv
import math
import os
from typing import Mapping, Sequence

from personalize.experiment.paper_results import PAPER_RESULTS
from personalize.metrics.significance import compare_prediction_files, read_predictions
from personalize.metrics.text_metrics import bleu, rouge

COLUMNS = ("BLEU", "ROUGE-1", "ROUGE-2", "ROUGE-L")
_KEY_OF_COLUMN = dict(zip(COLUMNS, ("bleu", "rouge1", "rouge2", "rougeL")))
REFERENCE_MARKERS = {"ImmedCtx": "*", "RecentDoc": "†"}


def row_scores(predictions_path: str) -> dict[str, float]:
    """Corpus metrics of one row's predictions file, in % (BLEU corpus-level, ROUGE averaged)."""
    records = read_predictions(predictions_path)
    ids = sorted(records)
    targets = [records[i]["target"] for i in ids]
    predictions = [records[i]["prediction"] for i in ids]
    scores = {**bleu(targets, predictions), **rouge(targets, predictions)}
    return {column: scores[_KEY_OF_COLUMN[column]] for column in COLUMNS} | {"examples": float(len(ids))}


def significance_markers(
    *, predictions: Mapping[str, str], alpha: float = 0.01
) -> dict[str, dict[str, str]]:
    """row -> column -> markers for the reference rows it beats significantly."""
    markers: dict[str, dict[str, str]] = {row: {c: "" for c in COLUMNS} for row in predictions}
    for reference, marker in REFERENCE_MARKERS.items():
        if reference not in predictions:
            continue
        for row, path in predictions.items():
            if row == reference:
                continue
            report = compare_prediction_files(baseline_path=predictions[reference], candidate_path=path, alpha=alpha)
            for column in COLUMNS:
                test = report[_KEY_OF_COLUMN[column]]
                if test["significant"] and test["mean_second"] > test["mean_first"]:
                    markers[row][column] += marker
    return markers


def build_results(*, predictions: Mapping[str, str], alpha: float = 0.01) -> list[dict]:
    """One record per row (in the given order): our scores, markers, and the paper's numbers."""
    markers = significance_markers(predictions=predictions, alpha=alpha)
    return [{"row": row, "scores": row_scores(path), "markers": markers[row]} for row, path in predictions.items()]


def format_markdown(results: Sequence[dict], *, title: str, paper_dataset: str | None) -> str:
    header = "| row | " + " | ".join(COLUMNS) + " | examples |"
    if paper_dataset:
        header += f" paper ({paper_dataset}, T5-11B) B/R1/R2/RL |"
    lines = [f"### {title}", "", header, "|" + "---|" * (header.count("|") - 1)]
    for result in results:
        cells = [f"{result['scores'][c]:.2f}{result['markers'][c]}" for c in COLUMNS]
        line = f"| {result['row']} | " + " | ".join(cells) + f" | {int(result['scores']['examples'])} |"
        if paper_dataset:
            paper = PAPER_RESULTS.get(result["row"], {}).get(paper_dataset)
            line += (" " + "/".join(f"{v:.2f}" for v in paper) + " |") if paper else " — |"
        lines.append(line)
    lines += ["", "`*` / `†`: better than ImmedCtx / RecentDoc by a paired t-test, p < 0.01 (as in the paper)."]
    return "\n".join(lines)


def write_results(results: Sequence[dict], *, output_dir: str, title: str, paper_dataset: str | None) -> dict[str, str]:
    """Writes results.md, results.csv and one bar plot per metric; returns their paths."""
    os.makedirs(output_dir, exist_ok=True)
    paths = {"markdown": os.path.join(output_dir, "results.md"), "csv": os.path.join(output_dir, "results.csv")}
    with open(paths["markdown"], "w", encoding="utf-8") as handle:
        handle.write(format_markdown(results, title=title, paper_dataset=paper_dataset) + "\n")
    with open(paths["csv"], "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", *COLUMNS, *(f"{c} significance" for c in COLUMNS), "examples",
                         *(f"paper {c}" for c in COLUMNS)])
        for result in results:
            paper = PAPER_RESULTS.get(result["row"], {}).get(paper_dataset or "", (math.nan,) * 4)
            writer.writerow([result["row"], *(f"{result['scores'][c]:.4f}" for c in COLUMNS),
                             *(result["markers"][c] for c in COLUMNS), int(result["scores"]["examples"]), *paper])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for column in COLUMNS:
        figure, axis = plt.subplots(figsize=(max(4.0, 0.8 * len(results) + 1), 3.6))
        names = [r["row"] for r in results]
        axis.bar(names, [r["scores"][column] for r in results], color="#4C72B0")
        axis.set_ylabel(f"{column} (%)")
        axis.set_title(f"{title}: {column}")
        axis.tick_params(axis="x", rotation=45, labelsize=8)
        for label in axis.get_xticklabels():
            label.set_horizontalalignment("right")
        figure.tight_layout()
        path = os.path.join(output_dir, f"results_{column.lower().replace('-', '')}.png")
        figure.savefig(path, dpi=110)
        plt.close(figure)
        paths[column] = path
    return paths


