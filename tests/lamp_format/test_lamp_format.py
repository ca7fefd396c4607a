"""Export to LaMP / LongLaMP files and score them: hand-made examples with hand-derived ROUGE and METEOR values."""

import argparse
import json

import pytest

from personalize.cli import export as export_cli
from personalize.lamp_format.evaluate import evaluate_files, read_benchmark_file
from personalize.lamp_format.export import export_predictions
from personalize.lamp_format.meteor import DEFAULT_WORDNET_DIR, open_wordnet
from personalize.lamp_format.tasks import benchmark_id

# (example_id, target, prediction)
ROWS = [
    ("u1/a", "the cat sat on the mat", "the cat sat on the mat"),
    ("u2/b", "alpha beta gamma delta", "alpha beta omega sigma"),
    ("u3/c", "one two three four five six", "six five four"),
    ("u4/d", "the car is fast", "the auto is fast"),
]
# Per example F-measures: ROUGE-1 1, 2/4, 3 of 6 and 3 (P 1, R 1/2: 2/3), 3/4; ROUGE-L (LCS) 1, 1/2, 1 of 6 and 3: 2/9, 3/4.
ROUGE_1 = (1 + 1 / 2 + 2 / 3 + 3 / 4) / 4
ROUGE_L = (1 + 1 / 2 + 2 / 9 + 3 / 4) / 4
# METEOR = Fmean (10PR / (R + 9P)) * (1 - 0.5 (chunks / matches)^3):
#   6 of 6 in 1 chunk; 2 of 4 (Fmean 1/2) in 1 chunk; 3 matches (P 1, R 1/2: Fmean 10/19) in 3 chunks;
#   4 of 4 in 1 chunk, "auto" matching "car" only through WordNet (car.n.01).
METEOR = ((1 - 0.5 / 216) + 0.5 * (1 - 0.5 / 8) + (10 / 19) * 0.5 + (1 - 0.5 / 64)) / 4


def _write_predictions(path, rows):
    with open(path, "w", encoding="utf-8") as handle:
        for example_id, target, prediction in rows:
            handle.write(json.dumps({"example_id": example_id, "target": target, "prediction": prediction}) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def wordnet(tmp_path_factory):
    """(WordNet folder, work dir): the readable copy is assembled and read once for the module."""
    work_dir = str(tmp_path_factory.mktemp("wordnet"))
    if open_wordnet(directory=DEFAULT_WORDNET_DIR, work_dir=work_dir) is None:
        pytest.skip(f"no WordNet database in {DEFAULT_WORDNET_DIR} (bash run.sh brings Debian's wordnet-base where "
                    "it can; or set PERSONALIZE_WORDNET_DIR)")
    return DEFAULT_WORDNET_DIR, work_dir


def test_export_writes_both_files_in_the_benchmark_shape(tmp_path):
    predictions = _write_predictions(tmp_path / "p.jsonl", ROWS)
    count = export_predictions(
        predictions_path=predictions, task="LongLaMP_2", output_path=str(tmp_path / "out" / "preds.json"),
        golds_output_path=str(tmp_path / "golds.json"))
    assert count == 4
    preds = json.loads((tmp_path / "out" / "preds.json").read_text())
    golds = json.loads((tmp_path / "golds.json").read_text())
    assert preds == {"task": "LongLaMP_2", "golds": [{"id": i, "output": p} for i, _, p in ROWS]}
    assert golds == {"task": "LongLaMP_2", "golds": [{"id": i, "output": t} for i, t, _ in ROWS]}


def test_round_trip_scores_exactly(tmp_path, wordnet):
    predictions = _write_predictions(tmp_path / "p.jsonl", ROWS)
    export_predictions(predictions_path=predictions, task="LongLaMP_2", output_path=str(tmp_path / "preds.json"),
                       golds_output_path=str(tmp_path / "golds.json"))
    scores = evaluate_files(golds_path=str(tmp_path / "golds.json"), predictions_path=str(tmp_path / "preds.json"),
                            wordnet_dir=wordnet[0], work_dir=wordnet[1])
    assert scores["task"] == "LongLaMP_2" and scores["examples"] == 4
    assert scores["rouge-1"] == pytest.approx(ROUGE_1, abs=1e-12)
    assert scores["rouge-L"] == pytest.approx(ROUGE_L, abs=1e-12)
    assert scores["meteor"] == pytest.approx(METEOR, abs=1e-12)
    assert "meteor_skipped" not in scores


def test_meteor_is_skipped_with_a_note_without_wordnet(tmp_path):
    predictions = _write_predictions(tmp_path / "p.jsonl", ROWS)
    export_predictions(predictions_path=predictions, task="LongLaMP_4", output_path=str(tmp_path / "preds.json"),
                       golds_output_path=str(tmp_path / "golds.json"))
    scores = evaluate_files(golds_path=str(tmp_path / "golds.json"), predictions_path=str(tmp_path / "preds.json"),
                            wordnet_dir=str(tmp_path / "no-wordnet"))
    assert "meteor" not in scores
    assert "no-wordnet" in scores["meteor_skipped"]
    assert scores["rouge-1"] == pytest.approx(ROUGE_1, abs=1e-12)


def test_lamp_ids_are_the_question_ids(tmp_path):
    rows = [("LaMP_4/310/output", "Stocks rally on news", "Stocks rally"), ("LaMP_4/7/x/output", "Rain", "Rain")]
    predictions = _write_predictions(tmp_path / "p.jsonl", rows)
    export_predictions(predictions_path=predictions, task="LaMP_4", output_path=str(tmp_path / "preds.json"))
    assert read_benchmark_file(str(tmp_path / "preds.json")) == ("LaMP_4", {"310": "Stocks rally", "7/x": "Rain"})


@pytest.mark.parametrize("example_id", ["LaMP_5/310/output", "u1/a", "LaMP_4/output"])
def test_an_example_that_is_no_lamp_question_is_refused(example_id):
    with pytest.raises(ValueError, match="is not a LaMP_4 question"):
        benchmark_id(example_id=example_id, task="LaMP_4")


def test_unknown_task_is_refused(tmp_path):
    predictions = _write_predictions(tmp_path / "p.jsonl", ROWS)
    with pytest.raises(ValueError, match="unknown task 'LongLaMP_9'"):
        export_predictions(predictions_path=predictions, task="LongLaMP_9", output_path=str(tmp_path / "x.json"))


def _benchmark_file(path, task, pairs):
    path.write_text(json.dumps({"task": task, "golds": [{"id": i, "output": o} for i, o in pairs]}))
    return str(path)


def test_evaluate_refuses_mismatched_files(tmp_path):
    golds = _benchmark_file(tmp_path / "g.json", "LaMP_7", [("1", "a b"), ("2", "c d")])
    other_task = _benchmark_file(tmp_path / "t.json", "LaMP_5", [("1", "a b"), ("2", "c d")])
    missing = _benchmark_file(tmp_path / "m.json", "LaMP_7", [("1", "a b"), ("3", "c d")])
    twice = _benchmark_file(tmp_path / "d.json", "LaMP_7", [("1", "a b"), ("1", "c d")])
    with pytest.raises(ValueError, match="is task 'LaMP_7' but .* is task 'LaMP_5'"):
        evaluate_files(golds_path=golds, predictions_path=other_task)
    with pytest.raises(ValueError, match=r"1 ids without a prediction \['2'\], 1 predictions without a gold \['3'\]"):
        evaluate_files(golds_path=golds, predictions_path=missing)
    with pytest.raises(ValueError, match="d.json: id '1' appears twice"):
        evaluate_files(golds_path=golds, predictions_path=twice)


def test_cli_export_then_evaluate(tmp_path, wordnet, capsys):
    predictions = _write_predictions(tmp_path / "p.jsonl", ROWS)
    parser = argparse.ArgumentParser()
    export_cli.add_arguments(parser)
    args = parser.parse_args(["--predictions", predictions, "--task", "LongLaMP_3", "--output",
                              str(tmp_path / "preds.json"), "--golds_output", str(tmp_path / "golds.json")])
    assert export_cli.run_command(args, [], []) == 0
    assert "4 LongLaMP_3 examples written" in capsys.readouterr().out
    parser = argparse.ArgumentParser()
    export_cli.EVALUATE_LAMP.add_arguments(parser)
    args = parser.parse_args(["--golds", str(tmp_path / "golds.json"), "--predictions", str(tmp_path / "preds.json"),
                              "--wordnet_dir", wordnet[0], "--work_dir", wordnet[1],
                              "--output", str(tmp_path / "scores.json")])
    assert export_cli.EVALUATE_LAMP.run_command(args, [], []) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert json.loads(capsys.readouterr().out) == scores
    assert scores["rouge-L"] == pytest.approx(ROUGE_L, abs=1e-12)
    assert scores["meteor"] == pytest.approx(METEOR, abs=1e-12)


def test_export_runs_through_the_personalize_entry_point(tmp_path, monkeypatch, capsys):
    from personalize.cli import main as cli_main

    monkeypatch.setitem(cli_main.SUBCOMMANDS, "export", "personalize.cli.export")
    predictions = _write_predictions(tmp_path / "p.jsonl", ROWS[:1])
    assert cli_main.main(["export", "--predictions", predictions, "--task", "LaMP_7",
                          "--output", str(tmp_path / "o.json")]) == 2
    assert "example 'u1/a' is not a LaMP_7 question" in capsys.readouterr().err
    assert cli_main.main(["export", "--predictions", predictions, "--task", "LongLaMP_1",
                          "--output", str(tmp_path / "o.json")]) == 0
    assert read_benchmark_file(str(tmp_path / "o.json")) == ("LongLaMP_1", {"u1/a": ROWS[0][2]})
