"""The paper's orderings table: a strict claim holds only with p < 0.01 on ROUGE-1 and ROUGE-L, an `>=` claim fails
only when the row is significantly worse, and orderings whose rows did not run are left out."""

import json

import pytest

from personalize.experiment.orderings import check_orderings, format_orderings, format_p, paper_orderings
from personalize.experiment.results_table import row_scores

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def _targets():
    return {f"e{i}": " ".join(WORDS[(i + k) % len(WORDS)] for k in range(10)) for i in range(40)}


def _write(tmp_path, row, keep):
    """Predictions that keep the first `keep(i)` words of example i's target and pad with a foreign word."""
    path = tmp_path / f"{row}.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i, (example_id, target) in enumerate(_targets().items()):
            words = target.split()
            kept = keep(i)
            prediction = " ".join(words[:kept] + ["omega"] * (10 - kept))
            handle.write(json.dumps({"example_id": example_id, "target": target, "prediction": prediction}) + "\n")
    return str(path)


@pytest.fixture
def predictions(tmp_path):
    return {
        "ImmedCtx": _write(tmp_path, "ImmedCtx", lambda i: 3 + i % 3),
        "RecentDoc": _write(tmp_path, "RecentDoc", lambda i: 3 + (i + 1) % 3),  # same quality as ImmedCtx
        "RankDocBySnpt": _write(tmp_path, "RankDocBySnpt", lambda i: 6 + i % 4),  # clearly better
        "+SumCtx": _write(tmp_path, "+SumCtx", lambda i: 2 + i % 2),  # clearly worse than its base
    }


def _by_claim(records):
    return {record["claim"]: record for record in records}


def test_the_orderings_are_the_papers_on_the_runs_base_rows():
    orderings = paper_orderings(base_ranking="RankDocBySnpt", base_summary="SumCtx", multitask_row="+SynCtx")
    assert ("RankDocBySnpt", ">", "ImmedCtx") in orderings and ("RecentDoc", ">", "ImmedCtx") in orderings
    assert ("RankDocBySnpt", ">=", "RecentDoc") in orderings
    assert ("+SumCtx", ">=", "RankDocBySnpt") in orderings and ("+SynCtx", ">=", "+SumCtx") in orderings
    assert ("+AuthorPred", ">=", "+SynCtx") in orderings


def test_verdicts_follow_the_paired_t_test(predictions):
    records = _by_claim(check_orderings(predictions=predictions, base_ranking="RankDocBySnpt", base_summary="SumCtx",
                                        multitask_row="+SynCtx"))
    assert records["RankDocBySnpt > ImmedCtx"]["verdict"] == "holds"
    assert records["RankDocBySnpt > ImmedCtx"]["difference"]["ROUGE-1"] > 0
    assert records["RankDocBySnpt > ImmedCtx"]["p"]["ROUGE-L"] < 0.01
    assert records["RecentDoc > ImmedCtx"]["verdict"] == "not shown (not significant)"
    assert records["RankDocBySnpt >= RecentDoc"]["verdict"] == "holds"
    assert records["+SumCtx >= RankDocBySnpt"]["verdict"] == "does not hold (significantly worse)"
    assert records["+SumCtx >= RankDocBySnpt"]["difference"]["ROUGE-L"] < 0


def test_orderings_whose_rows_did_not_run_are_left_out(predictions):
    claims = _by_claim(check_orderings(predictions=predictions, base_ranking="RankDocBySnpt", base_summary="SumCtx",
                                       multitask_row="+SynCtx"))
    assert not any("+SynCtx" in claim or "+AuthorPred" in claim or "RankDocBM25" in claim for claim in claims)


def test_the_table_shows_every_checked_claim(predictions):
    records = check_orderings(predictions=predictions, base_ranking="RankDocBySnpt", base_summary="SumCtx",
                              multitask_row="+SynCtx")
    table = format_orderings(records, title="t")
    for record in records:
        assert f"| {record['claim']} |" in table and record["verdict"] in table


def test_the_orderings_are_written_beside_the_results(predictions, tmp_path):
    from personalize.experiment.orderings import write_orderings

    records = check_orderings(predictions=predictions, base_ranking="RankDocBySnpt", base_summary="SumCtx",
                              multitask_row="+SynCtx")
    path = write_orderings(records, output_dir=str(tmp_path), title="t")
    assert path == str(tmp_path / "orderings.md") and "RankDocBySnpt > ImmedCtx" in (tmp_path / "orderings.md").read_text()
    assert [r["claim"] for r in json.loads((tmp_path / "orderings.json").read_text())] == [r["claim"] for r in records]


def test_differences_are_the_results_tables_points(predictions):
    """Δ is the difference of the results table's ROUGE columns (points, not points x 100)."""
    record = _by_claim(check_orderings(predictions=predictions, base_ranking="RankDocBySnpt", base_summary="SumCtx",
                                       multitask_row="+SynCtx"))["RankDocBySnpt > ImmedCtx"]
    row, reference = row_scores(predictions["RankDocBySnpt"]), row_scores(predictions["ImmedCtx"])
    for column in ("ROUGE-1", "ROUGE-L"):
        assert record["difference"][column] == pytest.approx(row[column] - reference[column], abs=1e-6)


def test_a_p_value_that_underflowed_is_shown_as_a_bound_not_as_zero():
    assert format_p(0.0) == "< 1e-300"
    assert format_p(0.00037) == "0.00037"
    assert format_p(0.041) == "0.041"
