"""`personalize inspect`: tasks and rates, decoded examples, exact length statistics and truncation shares."""

import argparse

import numpy as np
import pytest

from personalize.cli import inspect as inspect_cli
from personalize.inspection.task_report import format_report, inspect_provider, parse_feature_lengths


def test_parse_feature_lengths():
    assert parse_feature_lengths("inputs=1024, targets=512") == {"inputs": 1024, "targets": 512}
    with pytest.raises(ValueError, match="NAME=INTEGER"):
        parse_feature_lengths("inputs:1024")


def test_task_report_is_exact(registered, tiny):
    import seqio

    vocabulary = seqio.SentencePieceVocabulary(registered["vocabulary"], extra_ids=100)
    report = inspect_provider(name="personalize_insp_immedctx_v1", split="validation", num_examples=1,
                              feature_lengths={"inputs": 60, "targets": 62}, max_examples=100)
    (task,) = report["tasks"]
    assert (task["name"], task["rate"]) == ("personalize_insp_immedctx_v1", 1.0)
    targets = [len(vocabulary.encode(tiny.body("v0", i))) + 1 for i in (3, 4, 5)]
    assert task["lengths"]["targets"] == {
        "count": 3, "min": min(targets), "median": float(np.median(targets)), "p90": float(np.percentile(targets, 90)),
        "p99": float(np.percentile(targets, 99)), "max": max(targets),
        "truncated": float(np.mean(np.asarray(targets) > 62))}
    first_input = ("Finish the passage in the user voice. passage start: title v0 3\n" + tiny.body("v0", 3)[:150])
    ids = vocabulary.encode(first_input)
    assert task["lengths"]["inputs"]["max"] >= len(ids) + 1
    assert task["examples"][0]["inputs"] == vocabulary.decode(ids[:59])


def test_mixture_report_lists_rates_and_missing_splits(registered):
    report = inspect_provider(name="personalize_insp_authorpred_v1", split="validation", num_examples=1,
                              feature_lengths={"inputs": 512, "targets": 256}, max_examples=10)
    by_name = {task["name"]: task for task in report["tasks"]}
    assert {name: task["rate"] for name, task in by_name.items()} == {
        "personalize_insp_synctx_v1": 1.0, "personalize_insp_authordistinction_v1": 1.0}
    assert by_name["personalize_insp_authordistinction_v1"]["missing_split"]
    assert by_name["personalize_insp_synctx_v1"]["lengths"]["inputs"]["truncated"] == 0.0
    text = format_report(report)
    assert "task personalize_insp_authordistinction_v1  rate 1\n  no validation split" in text


def test_cli_prints_the_report(registered, capsys):
    args = argparse.Namespace(name="personalize_insp_recentdoc_v1", split="test", num_examples=1,
                              feature_lengths="inputs=1024,targets=512", max_examples=10, module="tasks")
    assert inspect_cli.run_command(args, [], []) == 0
    out = capsys.readouterr().out
    assert out.startswith("personalize_insp_recentdoc_v1 (test split), feature lengths {'inputs': 1024, 'targets': 512}")
    assert "\n    inputs: Finish the passage in the user voice. passage start: title t0 3 t0 doc 3:" in out
    assert " past passages: " in out
    bad = argparse.Namespace(**{**vars(args), "name": "personalize_insp_nothing_v1"})
    with pytest.raises(ValueError, match="no task or mixture named"):
        inspect_cli.run_command(bad, [], [])


def test_cli_registers_from_the_gin_file(registered, capsys):
    import seqio

    bindings = [f"DATASET_NAME = 'gined'", f"RANKED_DIR = '{registered['ranked']}'",
                f"VOCABULARY = '{registered['vocabulary']}'", f"PREPARED_DIR = '{registered['prepared']}'",
                f"ADDITIONS = {{'SumCtxInd': '{registered['additions']['SumCtxInd']}'}}",
                "BASE_RANKING = 'RankDocBM25'", "MULTITASK_ROW = '+SumCtxInd'"]
    args = argparse.Namespace(name="personalize_gined_authorpred_v1", split="validation", num_examples=0,
                              feature_lengths="inputs=64,targets=32", max_examples=10, module="tasks")
    assert inspect_cli.run_command(args, ["tasks/register.gin"], bindings) == 0
    assert "task personalize_gined_sumctxind_v1  rate 1" in capsys.readouterr().out
    assert "personalize_gined_sumctx_v1" not in seqio.TaskRegistry.names()
