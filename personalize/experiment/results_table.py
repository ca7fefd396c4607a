"""The results table: BLEU / ROUGE-1 / ROUGE-2 / ROUGE-L per row, computed from prediction files, with checks.

Significance follows the paper (paired t-test, p < 0.01) against reference rows: a row better than
ImmedCtx carries `*`, better than RecentDoc carries `†`. The paper's numbers for the counterpart
dataset stand beside ours for orientation, never in place of them. Each row also carries the training step
that decoded it, a 95% bootstrap interval per metric and the generation checks (`metrics.generation_checks`),
which tell a real generation from a degenerate one and say whether the model takes words from its past passages.
"""

from __future__ import annotations

import csv
import math
import os
from typing import Mapping, Sequence

import numpy as np

from personalize.experiment.paper_results import PAPER_RESULTS
from personalize.generation.inputs import parse_generation_input
from personalize.metrics.bootstrap import RESAMPLES, SEED, bleu_from_statistics, bleu_statistics, bootstrap_interval
from personalize.metrics.generation_checks import generation_checks
from personalize.metrics.significance import compare_prediction_files, per_example_scores, read_predictions
from personalize.metrics.text_metrics import bleu, rouge

COLUMNS = ("BLEU", "ROUGE-1", "ROUGE-2", "ROUGE-L")
_KEY_OF_COLUMN = dict(zip(COLUMNS, ("bleu", "rouge1", "rouge2", "rougeL")))
REFERENCE_MARKERS = {"ImmedCtx": "*", "RecentDoc": "†"}
# The project's bar for predictions that are not degenerate (issue 11's acceptance).
MIN_DISTINCT = 0.9
LENGTH_RATIO_RANGE = (0.5, 1.5)
# The row whose past passages stand in for rows that have none, when the caller names none.
DEFAULT_CONTEXT_ROW = "RankDocBySnpt"
CHECK_COLUMNS = {
    "distinct": "distinct predictions (%)",
    "prediction_length": "mean prediction length (chars)",
    "target_length": "mean target length (chars)",
    "length_ratio": "length ratio",
    "repeated_trigrams": "repeated 3-grams (%)",
    "context_use": "context use (%)",
    "targets_context_use": "targets' context use (%)",
}
_PERCENT_CHECKS = ("distinct", "repeated_trigrams", "context_use", "targets_context_use")
_Fields = Mapping[str, tuple[str, str | None]]  # example id -> (x_t, past passages or None)


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


def metric_intervals(
    *, targets: Sequence[str], predictions: Sequence[str], resamples: int = RESAMPLES, seed: int = SEED
) -> dict[str, tuple[float, float]]:
    """column -> 95% bootstrap interval over the examples, of the same figure `row_scores` reports."""
    statistics = bleu_statistics(targets, predictions)
    intervals = {"BLEU": bootstrap_interval(values=statistics, statistic=bleu_from_statistics, resamples=resamples,
                                            seed=seed)}
    per_example = per_example_scores(targets, predictions)
    for column in COLUMNS[1:]:
        values = per_example[_KEY_OF_COLUMN[column]]
        intervals[column] = bootstrap_interval(values=values, resamples=resamples, seed=seed)
    return intervals


def _parsed_inputs(records: Mapping[str, dict], *, path: str) -> _Fields | None:
    """example id -> (x_t, past passages or None), from the rendered `inputs` each record carries.

    None for a file whose records carry no `inputs` at all (hand-made files): its context use is then unknown.
    """
    if not any("inputs" in record for record in records.values()):
        return None
    fields = {}
    for example_id, record in records.items():
        if "inputs" not in record:
            raise ValueError(f"{path}: example {example_id!r} has no `inputs`, though other examples there have")
        try:
            parsed = parse_generation_input(record["inputs"])
        except ValueError as error:
            raise ValueError(f"{path}: example {example_id!r}: {error}") from None
        fields[example_id] = (parsed.immediate_context, parsed.past_passages)
    return fields


def _has_passages(fields: _Fields | None) -> bool:
    return fields is not None and any(p is not None for _, p in fields.values())


def _context_row(inputs: Mapping[str, _Fields | None], *, requested: str | None) -> str | None:
    with_passages = [row for row, fields in inputs.items() if _has_passages(fields)]
    if requested is not None:
        if requested not in with_passages:
            raise ValueError(f"context_row {requested!r} has no past passages in its inputs "
                             f"(rows with them: {with_passages})")
        return requested
    if DEFAULT_CONTEXT_ROW in with_passages:
        return DEFAULT_CONTEXT_ROW
    return with_passages[0] if with_passages else None


def _past_passages(fields: _Fields, *, ids: Sequence[str], path: str, source: str) -> list[str]:
    missing = [i for i in ids if i not in fields]
    if missing:
        raise ValueError(f"{path}: examples {missing[:3]} are not in {source}, whose past passages the generation "
                         "checks compare against")
    return [fields[i][1] or "" for i in ids]


def build_results(
    *,
    predictions: Mapping[str, str],
    steps: Mapping[str, int] | None = None,
    alphas: Mapping[str, float] | None = None,
    context_row: str | None = None,
    alpha: float = 0.01,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> list[dict]:
    """One record per row (in the given order): scores, markers, intervals, generation checks and chosen step.

    `steps` maps a row to the training step whose checkpoint decoded it, `alphas` to the beam search's length penalty. Rows without past passages of their own
    (ImmedCtx, UserID) measure context use against `context_row`'s past passages for the same example (default:
    RankDocBySnpt, else the first row that has them), so their figure is what chance gives.
    """
    for name, given in (("steps", steps), ("alphas", alphas)):
        unknown = sorted(set(given or {}) - set(predictions))
        if unknown:
            raise ValueError(f"{name} name rows without predictions: {unknown}")
    markers = significance_markers(predictions=predictions, alpha=alpha)
    records = {row: read_predictions(path) for row, path in predictions.items()}
    inputs = {row: _parsed_inputs(records[row], path=path) for row, path in predictions.items()}
    reference = _context_row(inputs, requested=context_row)
    results = []
    for row, path in predictions.items():
        ids = sorted(records[row])
        targets = [records[row][i]["target"] for i in ids]
        texts = [records[row][i]["prediction"] for i in ids]
        source = None if inputs[row] is None else row if _has_passages(inputs[row]) else reference
        checks = generation_checks(
            predictions=texts, targets=targets,
            immediate_contexts=[inputs[row][i][0] for i in ids] if inputs[row] is not None else [""] * len(ids),
            past_passages=None if source is None else _past_passages(
                inputs[source], ids=ids, path=path, source=f"{predictions[source]} ({source})"))
        results.append({
            "row": row, "scores": row_scores(path), "markers": markers[row], "step": (steps or {}).get(row),
            "alpha": (alphas or {}).get(row),
            "intervals": metric_intervals(targets=targets, predictions=texts, resamples=resamples, seed=seed),
            "checks": checks, "context_from": source,
        })
    return results


def degenerate(checks: Mapping[str, float]) -> dict[str, bool]:
    """Which of the non-degeneracy bars a row misses: under 90% distinct, length outside 0.5x-1.5x the targets'."""
    low, high = LENGTH_RATIO_RANGE
    ratio = checks["length_ratio"]
    return {"distinct": checks["distinct"] < MIN_DISTINCT, "length": not (low <= ratio <= high)}


def _number(value: float, digits: int = 1, *, scale: float = 1.0) -> str:
    return "—" if value is None or math.isnan(value) else f"{scale * value:.{digits}f}"


def _check_cells(result: Mapping) -> list[str]:
    checks, misses = result["checks"], degenerate(result["checks"])
    context = _number(checks["context_use"], scale=100.0)
    if result["context_from"] not in (None, result["row"]):
        context += "‡"
    return [
        _number(checks["distinct"], scale=100.0) + (" ✗" if misses["distinct"] else ""),
        f"{checks['prediction_length']:.0f} / {checks['target_length']:.0f} ({_number(checks['length_ratio'], 2)}x)"
        + (" ✗" if misses["length"] else ""),
        _number(checks["repeated_trigrams"], scale=100.0),
        context,
        _number(checks["targets_context_use"], scale=100.0),
    ]


def format_markdown(results: Sequence[dict], *, title: str, paper_dataset: str | None) -> str:
    header = ("| row | " + " | ".join(COLUMNS) + " | step | α | examples | distinct % | length, chars: ours / targets | "
              "repeated 3-grams % | context use % | targets' context use % |")
    if paper_dataset:
        header += f" paper ({paper_dataset}, T5-11B) B/R1/R2/RL |"
    lines = [f"### {title}", "", header, "|" + "---|" * (header.count("|") - 1)]
    for result in results:
        cells = [f"{result['scores'][c]:.2f}{result['markers'][c]}" for c in COLUMNS]
        step = "—" if result.get("step") is None else str(result["step"])
        alpha = "—" if result.get("alpha") is None else f"{result['alpha']:g}"
        cells += [step, alpha, str(int(result["scores"]["examples"])), *_check_cells(result)]
        line = f"| {result['row']} | " + " | ".join(cells) + " |"
        if paper_dataset:
            paper = PAPER_RESULTS.get(result["row"], {}).get(paper_dataset)
            line += (" " + "/".join(f"{v:.2f}" for v in paper) + " |") if paper else " — |"
        lines.append(line)
    lines += ["", "`*` / `†`: better than ImmedCtx / RecentDoc by a paired t-test, p < 0.01 (as in the paper).",
              "step: the training step whose checkpoint decoded the row. α: the beam search's length penalty (chosen on "
              "validation where the run gives candidates). distinct: share of distinct predictions. "
              "length: mean characters of the predictions and of the targets, and their ratio. `✗`: under 90% "
              "distinct, or a length ratio outside 0.5x-1.5x (degenerate predictions). repeated 3-grams: share of a "
              "prediction's word 3-grams that repeat an earlier 3-gram of the same prediction, averaged over "
              "predictions. context use: share of a prediction's distinct word bigrams that occur in the past "
              "passages but not in x_t, averaged; targets' context use is the same measure on the real documents."]
    borrowed = sorted({r["context_from"] for r in results if r["context_from"] not in (None, r["row"])})
    if borrowed:
        lines.append("`‡`: the row has no past passages; its context use is measured against "
                     f"{', '.join(borrowed)}'s past passages for the same examples, so it shows what chance gives.")
    return "\n".join(lines)


def _write_csv(results: Sequence[dict], *, path: str, paper_dataset: str | None) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", *COLUMNS, *(f"{c} significance" for c in COLUMNS), "examples", "step", "alpha",
                         *(f"{c} 95% {end}" for c in COLUMNS for end in ("low", "high")), *CHECK_COLUMNS.values(),
                         "context passages from", *(f"paper {c}" for c in COLUMNS)])
        for result in results:
            paper = PAPER_RESULTS.get(result["row"], {}).get(paper_dataset or "", (math.nan,) * 4)
            checks = [f"{(100.0 if key in _PERCENT_CHECKS else 1.0) * result['checks'][key]:.4f}"
                      for key in CHECK_COLUMNS]
            writer.writerow([result["row"], *(f"{result['scores'][c]:.4f}" for c in COLUMNS),
                             *(result["markers"][c] for c in COLUMNS), int(result["scores"]["examples"]),
                             "" if result.get("step") is None else result["step"],
                             "" if result.get("alpha") is None else result["alpha"],
                             *(f"{bound:.4f}" for c in COLUMNS for bound in result["intervals"][c]), *checks,
                             result["context_from"] or "", *paper])


def _plot_metric(results: Sequence[dict], *, column: str, title: str, paper_dataset: str | None, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["row"] for r in results]
    examples = ", ".join(sorted({str(int(r["scores"]["examples"])) for r in results}))
    ours = np.array([r["scores"][column] for r in results])
    bounds = np.array([r["intervals"][column] for r in results]).reshape(len(results), 2)
    errors = np.clip(np.stack([ours - bounds[:, 0], bounds[:, 1] - ours]), 0.0, None)
    paper = [PAPER_RESULTS.get(name, {}).get(paper_dataset or "") for name in names]
    has_paper = any(p is not None for p in paper)
    width = 0.4 if has_paper else 0.7
    positions = np.arange(len(names))
    figure, axis = plt.subplots(figsize=(max(5.0, 0.75 * len(names) + 2.0), 4.0))
    offset = -width / 2 if has_paper else 0.0
    axis.bar(positions + offset, ours, width, yerr=errors, capsize=3, color="#4C72B0", ecolor="#222222",
             label=f"ours, 95% bootstrap interval ({examples} test examples resampled)")
    if has_paper:
        index = COLUMNS.index(column)
        values = [p[index] if p is not None else np.nan for p in paper]
        axis.bar(positions + width / 2, values, width, color="#BBBBBB", hatch="//", edgecolor="#777777",
                 label=f"paper, {paper_dataset} (T5-11B)")
    axis.set_xticks(positions, names, rotation=45, ha="right", fontsize=8)
    axis.set_ylabel(f"{column} (%)")
    axis.set_title(f"{title}: {column}", fontsize=10)
    axis.legend(fontsize=8, loc="upper left", frameon=False)
    top = max([*bounds[:, 1], *(p[COLUMNS.index(column)] for p in paper if p is not None), 1.0])
    axis.set_ylim(0, top * 1.25)  # room for the legend above the bars
    axis.grid(axis="y", alpha=0.3)
    axis.set_axisbelow(True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_results(results: Sequence[dict], *, output_dir: str, title: str, paper_dataset: str | None) -> dict[str, str]:
    """Writes results.md, results.csv and one bar plot per metric; returns their paths."""
    os.makedirs(output_dir, exist_ok=True)
    paths = {"markdown": os.path.join(output_dir, "results.md"), "csv": os.path.join(output_dir, "results.csv")}
    with open(paths["markdown"], "w", encoding="utf-8") as handle:
        handle.write(format_markdown(results, title=title, paper_dataset=paper_dataset) + "\n")
    _write_csv(results, path=paths["csv"], paper_dataset=paper_dataset)
    for column in COLUMNS:
        path = os.path.join(output_dir, f"results_{column.lower().replace('-', '')}.png")
        _plot_metric(results, column=column, title=title, paper_dataset=paper_dataset, path=path)
        paths[column] = path
    return paths
