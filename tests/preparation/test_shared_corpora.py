"""The three real corpora beside the repository prepare with the documented commands (skipped when absent)."""

import json

import pytest

from personalize.cli.main import main

# The Table 1 rows these corpora give with the paper's settings (the README shows them).
EXPECTED = {
    "blog_authorship": ("blog-authorship/posts.jsonl", {"train": 7678, "validation": 348, "test": 679}, 1570.7, 25.0),
    "enron_sent": ("enron-sent/sent.jsonl", {"train": 183, "validation": 50, "test": 33}, 932.5, 43.1),
    "amazon2023_users": ("amazon2023-users/reviews.jsonl", {"train": 325, "validation": 14, "test": 100}, 865.8, 19.2),
}


@pytest.mark.parametrize("dataset", sorted(EXPECTED))
def test_shared_corpus_prepares_to_its_table1_row(dataset, shared_data, tmp_path, capsys):
    path, examples, avg_chars, avg_past = EXPECTED[dataset]
    out = tmp_path / dataset
    assert main(["prepare", "--dataset", dataset, "--input", str(shared_data / path), "--output_dir", str(out)]) == 0
    statistics = json.loads((out / "statistics.json").read_text())
    assert statistics["table1"]["examples"] == examples
    assert statistics["table1"]["avg_chars_current_document"] == avg_chars
    assert statistics["table1"]["avg_past_documents"] == avg_past
    assert statistics["load"]["read"] == statistics["load"]["kept"] + sum(statistics["load"]["skipped"].values())
    assert "| avg chars of d_t |" in capsys.readouterr().out
