"""The context-quality report on a hand-made ranked directory, with ROUGE values worked out by hand."""

import argparse
import csv
import json

import pytest

from personalize.cli import context_quality as cli
from personalize.context_quality import report
from personalize.pipeline.ranked import RankedDataset


def _record(user_id, target, immediate, recent):
    return {"example_id": f"{user_id}/d9", "user_id": user_id, "doc_id": "d9", "split": "test", "title": None,
            "immediate_context": immediate, "target": target,
            "contexts": {"RecentDoc": {"entry_ids": ["d1"], "scores": [1.0], "text": recent}}}


@pytest.fixture
def ranked_dir(tmp_path):
    directory = tmp_path / "ranked"
    directory.mkdir()
    records = [_record("a", "the cat sat on the mat", "the cat", "the cat ate"),
               _record("b", "dogs run fast", "dogs", "dogs run")]
    (directory / "test-00000-of-00001.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (directory / "manifest.json").write_text(json.dumps({
        "format": "personalize.ranked/1", "strategies": ["RecentDoc"], "num_shards": 1,
        "shards": {"test": ["test-00000-of-00001.jsonl"]}, "counts": {"test": 2}, "settings": {}}))
    return directory


def test_rows_match_hand_worked_rouge(ranked_dir):
    rows = {row["context"]: row for row in report.context_quality(ranked_dir=str(ranked_dir))}
    assert list(rows) == ["ImmedCtx", "RecentDoc", "RandomUser"]
    # ImmedCtx: a = "the cat" in "the cat sat on the mat"; b = "dogs" (no bigram) in "dogs run fast".
    expected = {"rouge1_recall": 100 / 3, "rouge1_precision": 100.0, "rouge2_recall": 10.0,
                "rouge2_precision": 50.0, "rougeL_recall": 100 / 3, "rougeL_precision": 100.0}
    assert {k: rows["ImmedCtx"][k] for k in expected} == pytest.approx(expected)
    # RecentDoc: a = "the cat ate" (R1 2/6, 2/3; R2 1/5, 1/2); b = "dogs run" (R1 2/3, 1; R2 1/2, 1).
    expected = {"rouge1_recall": 50.0, "rouge1_precision": 250 / 3, "rouge2_recall": 35.0,
                "rouge2_precision": 75.0, "rougeL_recall": 50.0, "rougeL_precision": 250 / 3}
    assert {k: rows["RecentDoc"][k] for k in expected} == pytest.approx(expected)
    assert rows["RecentDoc"]["context_chars"] == pytest.approx((11 + 8) / 2)
    # RandomUser: each example gets the other user's RecentDoc text; no word in common.
    assert all(rows["RandomUser"][k] == 0.0 for k in report.COLUMNS)
    assert rows["RandomUser"]["context_chars"] == pytest.approx((8 + 11) / 2)
    assert all(row["examples"] == 2 for row in rows.values())


def test_cli_writes_markdown_csv_json_plot_and_config(ranked_dir, tmp_path, capsys):
    out = tmp_path / "quality"
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--ranked_dir", str(ranked_dir), "--output_dir", str(out)])
    assert cli.run_command(args, [], ["report.write_context_quality_report.seed = 3"]) == 0
    markdown = (out / "context_quality.md").read_text()
    assert "| RecentDoc | 2 | 10 | 50.00 | 83.33 | 35.00 | 75.00 | 50.00 | 83.33 |" in markdown
    with open(out / "context_quality.csv") as handle:
        table = list(csv.DictReader(handle))
    assert [row["context"] for row in table] == ["ImmedCtx", "RecentDoc", "RandomUser"]
    assert table[0]["rouge2_precision"] == "50.0000"
    assert json.loads((out / "context_quality.json").read_text())["seed"] == 3
    assert (out / "context_quality.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "report.write_context_quality_report.seed = 3" in (out / "config.gin").read_text()
    assert "| ImmedCtx | 2 |" in capsys.readouterr().out


def test_max_examples_scores_a_subset(ranked_dir):
    rows = report.context_quality(ranked_dir=str(ranked_dir), max_examples=1)
    assert [row["examples"] for row in rows] == [1, 1, 1]


def test_one_user_split_cannot_have_a_random_user(ranked_dir):
    shard = ranked_dir / "test-00000-of-00001.jsonl"
    shard.write_text(shard.read_text().splitlines()[0] + "\n")
    with pytest.raises(ValueError, match="one user only"):
        report.context_quality(ranked_dir=str(ranked_dir))


def test_missing_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no manifest.json.*personalize rank"):
        RankedDataset(str(tmp_path))


def test_corrupt_line_names_file_and_line(ranked_dir):
    shard = ranked_dir / "test-00000-of-00001.jsonl"
    shard.write_text(shard.read_text() + "{oops\n")
    with pytest.raises(ValueError, match=r"test-00000-of-00001.jsonl:3: corrupt ranked record"):
        list(RankedDataset(str(ranked_dir)).examples("test"))


def test_random_user_donors_are_other_users_uniformly_and_deterministic():
    ids = [("a", "a/1"), ("a", "a/2"), ("b", "b/3"), ("c", "c/4"), ("c", "c/5")]
    seen = {example_id: set() for _, example_id in ids}
    for seed in range(200):
        donors = report._draw_donors(ids=ids, chosen=list(range(5)), seed=seed)
        assert donors == report._draw_donors(ids=ids, chosen=list(range(5)), seed=seed)
        for example_id, donor in donors.items():
            seen[example_id].add(donor)
    assert seen["a/1"] == {"b/3", "c/4", "c/5"}
    assert seen["b/3"] == {"a/1", "a/2", "c/4", "c/5"}
    assert seen["c/5"] == {"a/1", "a/2", "b/3"}
