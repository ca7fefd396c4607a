"""The results table's generation checks, chosen steps, bootstrap intervals and plots, on hand-made prediction files."""

import csv
import json
import math

import pytest

from personalize.experiment.results_table import build_results, format_markdown, write_results
from personalize.generation.inputs import generation_input

# example id -> (x_t, RankDocBySnpt's past passages, target)
EXAMPLES = {
    "e1": ("we went", "to the sea went home", "we went to the sea"),
    "e2": ("the cat", "sat on the mat", "the cat sat on the mat"),
}
PREDICTIONS = {
    "ImmedCtx": {"e1": "we went home", "e2": "the cat ran away"},
    "RecentDoc": {"e1": "I'm.", "e2": "I'm."},
    "RankDocBySnpt": {"e1": "we went to the sea", "e2": "the cat sat on the mat"},
}


def _write(directory, row, *, with_inputs=True, passages=None):
    path = directory / f"{row}.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for example_id, (x_t, past, target) in EXAMPLES.items():
            record = {"example_id": example_id, "prediction": PREDICTIONS[row][example_id], "target": target}
            if with_inputs:
                own = {"ImmedCtx": None, "RecentDoc": "x", "RankDocBySnpt": past}[row] if passages is None else passages
                record["inputs"] = generation_input(immediate_context=x_t, past_passages=own)
            handle.write(json.dumps(record) + "\n")
    return str(path)


@pytest.fixture
def files(tmp_path):
    return {row: _write(tmp_path, row) for row in PREDICTIONS}


def test_generation_checks_per_row_by_hand(files):
    results = {r["row"]: r for r in build_results(predictions=files)}
    immediate = results["ImmedCtx"]["checks"]
    # Lengths 12 and 16 characters against 18 and 22.
    assert (immediate["prediction_length"], immediate["target_length"]) == (14.0, 20.0)
    assert immediate["length_ratio"] == pytest.approx(0.7)
    # Against RankDocBySnpt's passages: e1 (went home) of 2 bigrams, e2 none of 3.
    assert immediate["context_use"] == pytest.approx((1 / 2 + 0 / 3) / 2)
    assert results["ImmedCtx"]["context_from"] == "RankDocBySnpt"
    # The targets: e1 (to the) (the sea) of 4, e2 (sat on) (on the) (the mat) of 5.
    assert immediate["targets_context_use"] == pytest.approx((2 / 4 + 3 / 5) / 2)
    ranked = results["RankDocBySnpt"]["checks"]
    assert ranked["context_use"] == ranked["targets_context_use"] == pytest.approx((2 / 4 + 3 / 5) / 2)
    assert results["RankDocBySnpt"]["context_from"] == "RankDocBySnpt"
    recent = results["RecentDoc"]["checks"]
    assert recent["distinct"] == 0.5 and recent["length_ratio"] == pytest.approx(4 / 20)
    # One-word predictions have no bigram: their context use is unknown, not zero.
    assert results["RecentDoc"]["context_from"] == "RecentDoc" and math.isnan(recent["context_use"])


def test_the_table_shows_steps_alphas_checks_and_marks_degenerate_rows(files):
    results = build_results(predictions=files, steps={"ImmedCtx": 300, "RankDocBySnpt": 1200},
                            alphas={"ImmedCtx": 0.6, "RankDocBySnpt": 1.4})
    markdown = format_markdown(results, title="t", paper_dataset="Reddit")
    lines = {line.split(" | ")[0].lstrip("| "): line for line in markdown.splitlines() if line.startswith("| ")}
    assert "| step | α | examples | distinct % | length, chars: ours / targets |" in lines["row"]
    assert "| 300 | 0.6 | 2 | 100.0 | 14 / 20 (0.70x) | 0.0 | 25.0‡ | 55.0 |" in lines["ImmedCtx"]
    assert "| 1200 | 1.4 | 2 | 100.0 | 20 / 20 (1.00x) |" in lines["RankDocBySnpt"]
    assert "| — | — | 2 | 50.0 ✗ | 4 / 20 (0.20x) ✗ | — | — | 0.0 |" in lines["RecentDoc"]
    assert "`‡`: the row has no past passages; its context use is measured against RankDocBySnpt's" in markdown
    with pytest.raises(ValueError, match="steps name rows without predictions: \\['UserID'\\]"):
        build_results(predictions=files, steps={"UserID": 5})
    with pytest.raises(ValueError, match="alphas name rows without predictions: \\['UserID'\\]"):
        build_results(predictions=files, alphas={"UserID": 0.6})


def test_csv_carries_intervals_that_contain_the_scores(files, tmp_path):
    results = build_results(predictions=files, steps={"ImmedCtx": 300}, alphas={"ImmedCtx": 1.4})
    paths = write_results(results, output_dir=str(tmp_path / "out"), title="hand-made", paper_dataset="Reddit")
    with open(paths["csv"], encoding="utf-8") as handle:
        table = {row["row"]: row for row in csv.DictReader(handle)}
    assert list(table) == list(PREDICTIONS)
    assert table["ImmedCtx"]["step"] == "300" and table["RecentDoc"]["step"] == ""
    assert table["ImmedCtx"]["alpha"] == "1.4" and table["RecentDoc"]["alpha"] == ""
    assert table["ImmedCtx"]["context passages from"] == "RankDocBySnpt"
    assert float(table["ImmedCtx"]["mean prediction length (chars)"]) == 14.0
    assert float(table["ImmedCtx"]["context use (%)"]) == pytest.approx(25.0)
    assert float(table["RankDocBySnpt"]["paper ROUGE-1"]) == 45.67
    for row in table.values():
        for column in ("BLEU", "ROUGE-1", "ROUGE-2", "ROUGE-L"):
            assert float(row[f"{column} 95% low"]) <= float(row[column]) <= float(row[f"{column} 95% high"])
    assert all((tmp_path / "out" / f"results_{m}.png").stat().st_size > 0 for m in ("bleu", "rouge1", "rouge2", "rougel"))


def test_rows_measure_context_against_the_requested_row(files):
    results = {r["row"]: r for r in build_results(predictions=files, context_row="RecentDoc")}
    assert results["ImmedCtx"]["context_from"] == "RecentDoc"
    assert results["ImmedCtx"]["checks"]["context_use"] == 0.0
    with pytest.raises(ValueError, match="context_row 'ImmedCtx' has no past passages"):
        build_results(predictions=files, context_row="ImmedCtx")


def test_files_without_inputs_leave_context_use_unknown(tmp_path):
    files = {row: _write(tmp_path, row, with_inputs=False) for row in ("ImmedCtx", "RankDocBySnpt")}
    results = build_results(predictions=files)
    assert all(r["context_from"] is None for r in results)
    markdown = format_markdown(results, title="t", paper_dataset=None)
    assert "| 0.0 | — | — |" in markdown and "‡" not in markdown


def test_a_reference_row_missing_an_example_is_named(tmp_path):
    reference = tmp_path / "ref.jsonl"
    reference.write_text(json.dumps({"example_id": "e1", "prediction": "p", "target": "t",
                                     "inputs": generation_input(immediate_context="x", past_passages="p")}) + "\n")
    # UserID is no significance reference, so only the generation checks compare the two files' examples.
    files = {"UserID": _write(tmp_path, "ImmedCtx"), "RankDocBySnpt": str(reference)}
    with pytest.raises(ValueError, match=r"examples \['e2'\] are not in .*ref.jsonl \(RankDocBySnpt\)"):
        build_results(predictions=files)
