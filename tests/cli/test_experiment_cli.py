"""`personalize experiment` on the command line: a missing outside resource stops it at once, without a traceback
and without artifacts; a new corpus needs no gin dataset file (`--format --input --fields --name`)."""

import json
import subprocess
import sys
import time

import pytest

from personalize.cli.main import main
from personalize.corpus.demo_corpus import generate_demo_corpus

FIELDS = "user_id=user,body=text,timestamp=time,title=headline"


def test_a_missing_wordnet_stops_the_experiment_in_seconds_naming_it(tmp_path):
    output = tmp_path / "D"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "personalize.cli.main", "experiment", "--dataset", "demo",
                           "--output_dir", str(output), "--wordnet_dir", "/nonexistent"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    assert done.returncode != 0
    assert "WordNet: /nonexistent does not exist" in done.stderr and "--wordnet_dir" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert elapsed < 30
    assert not (output / "artifacts").exists()


def _write_jsonl_corpus(path):
    """The demo corpus's documents as a JSONL file with field names of its own."""
    with open(path, "w", encoding="utf-8") as handle:
        for document in generate_demo_corpus(num_users=8, seed=3):
            handle.write(json.dumps({"user": document.user_id, "text": document.body,
                                     "time": document.timestamp, "headline": document.title}) + "\n")


class _StopAfterPreparing(Exception):
    pass


def test_a_new_corpus_runs_from_flags_without_a_dataset_gin_file(tmp_path, monkeypatch, capsys):
    from personalize.pipeline import beam_ranking

    def stop(**kwargs):
        raise _StopAfterPreparing

    monkeypatch.setattr(beam_ranking, "rank_dataset", stop)  # the stage after preparation
    corpus = tmp_path / "posts.jsonl"
    _write_jsonl_corpus(corpus)
    output = tmp_path / "run"
    with pytest.raises(_StopAfterPreparing):
        main(["experiment", "--format", "jsonl", "--input", str(corpus), "--fields", FIELDS, "--name", "My Posts",
              "--skip_bad", "--output_dir", str(output), "--rows", "ImmedCtx"])
    [prepared] = output.glob("artifacts/prepared-*")
    manifest = json.loads((prepared / "manifest.json").read_text())
    assert manifest["settings"] == {"name": "My Posts", "format": "jsonl", "paths": [str(corpus)],
                                    "fields": FIELDS, "skip_bad": True, "loader_options": None}
    assert "| My Posts |" in (prepared / "statistics.md").read_text()
    assert "| My Posts |" in capsys.readouterr().out  # Table 1 on the console


@pytest.mark.parametrize("corpus_flags, message", [
    ([], "neither was given"),
    (["--dataset", "demo", "--format", "jsonl"], "not both"),
])
def test_the_corpus_is_given_exactly_once(tmp_path, capsys, corpus_flags, message):
    assert main(["experiment", "--output_dir", str(tmp_path / "run"), *corpus_flags]) == 2
    error = capsys.readouterr().err
    assert "--dataset NAME" in error and "--format FORMAT" in error and message in error
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name_flags, shown", [(["--name", "My Posts"], "My Posts"), ([], "posts")])
def test_prepare_table1_shows_the_name_given_else_the_input_file_name(tmp_path, capsys, name_flags, shown):
    corpus = tmp_path / "posts.jsonl"
    _write_jsonl_corpus(corpus)
    assert main(["prepare", "--format", "jsonl", "--input", str(corpus), "--fields", FIELDS, *name_flags,
                 "--output_dir", str(tmp_path / "out")]) == 0
    assert f"| {shown} |" in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "statistics.json").read_text())["name"] == shown
