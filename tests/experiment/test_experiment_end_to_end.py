"""A tiny corpus through every stage of `personalize experiment`, and a results table computed from predictions."""

import csv
import dataclasses
import functools
import json

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from personalize.experiment.runner import TrainingSettings, run_experiment
from personalize.models.t5.config import T5Config
from personalize.preparation.run import prepare_dataset

pytestmark = pytest.mark.slow

ROWS = ("ImmedCtx", "RankDocBySnpt", "+AuthorPred")


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    output = tmp_path_factory.mktemp("experiment")
    prepare = functools.partial(prepare_dataset, name="tiny", format="demo", num_shards=2,
                                loader_options={"num_users": 8, "seed": 3}, log=lambda line: None)
    settings = dict(
        output_dir=str(output), prepare=prepare, rows=ROWS, strategies=("RecentDoc", "RankDocBySnpt"),
        model_config=T5Config(emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64, num_encoder_layers=1,
                              num_decoder_layers=1, dropout_rate=0.0, dtype="float32"),
        vocabulary_size=300,
        training=TrainingSettings(train_steps=3, batch_size=8, inputs_length=96, targets_length=24,
                                  warmup_steps=1, num_beams=2, decode_batch_size=8, max_test_examples=6),
        prepare_config={"test": "tiny"},
    )
    paths = run_experiment(**settings)
    return output, paths, settings


def _scores_by_the_libraries(records):
    """The table's figures recomputed from a predictions file by sacrebleu and rouge-score directly, not by the
    project's code that built the table: corpus BLEU, and ROUGE F-measures (Porter stemming) averaged, in %."""
    targets, predictions = [r["target"] for r in records], [r["prediction"] for r in records]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    scores = [scorer.score(t, p) for t, p in zip(targets, predictions)]
    return {"BLEU": sacrebleu.corpus_bleu(predictions, [targets]).score,
            **{column: 100 * sum(s[name].fmeasure for s in scores) / len(scores)
               for column, name in (("ROUGE-1", "rouge1"), ("ROUGE-2", "rouge2"), ("ROUGE-L", "rougeL"))}}


def test_every_row_has_predictions_and_the_table_is_computed_from_them(experiment):
    output, paths, _ = experiment
    with open(paths["csv"], encoding="utf-8") as handle:
        table = {row["row"]: row for row in csv.DictReader(handle)}
    assert list(table) == list(ROWS)
    for row in ROWS:
        predictions = next(output.glob(f"artifacts/decoded-{row.lstrip('+').lower()}-*/predictions-test.jsonl"))
        records = [json.loads(line) for line in predictions.read_text().splitlines()]
        assert len(records) == 6 and all(r["target"] and "example_id" in r for r in records)
        recomputed = _scores_by_the_libraries(records)
        for column in ("BLEU", "ROUGE-1", "ROUGE-2", "ROUGE-L"):
            assert float(table[row][column]) == pytest.approx(recomputed[column], abs=1e-4)
    markdown = (output / "results.md").read_text()
    assert "| ImmedCtx |" in markdown and "| +AuthorPred |" in markdown
    assert all((output / f"results_{m}.png").stat().st_size > 0 for m in ("bleu", "rouge1", "rouge2", "rougel"))
    orderings = {record["claim"]: record for record in json.loads((output / "orderings.json").read_text())}
    assert set(orderings) == {"RankDocBySnpt > ImmedCtx", "+AuthorPred >= RankDocBySnpt"}
    assert "| RankDocBySnpt > ImmedCtx |" in (output / "orderings.md").read_text()


def test_the_multitask_row_reports_how_likely_the_author_labels_are_under_its_generation_inputs(experiment):
    output, _, _ = experiment
    probe = json.loads((output / "author_labels.json").read_text())
    predictions = next(output.glob("artifacts/decoded-authorpred-*/predictions-test.jsonl")).read_text().splitlines()
    labels = [json.loads(line)["prediction"].strip() in ("true", "false") for line in predictions]
    assert probe["examples"] == len(predictions) == 6
    assert probe["predictions_that_are_labels"] == pytest.approx(sum(labels) / len(labels))
    assert probe["label_outranks_prediction"] >= probe["predictions_that_are_labels"]
    for label in ("true", "false"):
        entry = probe["labels"][label]
        assert entry["pieces"] >= 2 and entry["mean_log_likelihood"] <= entry["max_log_likelihood"] < 0


def test_inputs_of_each_row_follow_the_paper_format(experiment):
    output, _, _ = experiment
    immediate = json.loads(next(output.glob("artifacts/decoded-immedctx-*/predictions-test.jsonl")).read_text().splitlines()[0])
    ranked = json.loads(next(output.glob("artifacts/decoded-rankdocbysnpt-*/predictions-test.jsonl")).read_text().splitlines()[0])
    assert immediate["inputs"].startswith("Finish the passage in the user voice. passage start:")
    assert "past passages:" not in immediate["inputs"]
    assert "past passages:" in ranked["inputs"]


def test_a_repeated_run_reuses_every_artifact(experiment, capsys):
    output, _, settings = experiment
    capsys.readouterr()
    run_experiment(**settings)
    log = capsys.readouterr().err
    assert "building" not in log
    for stage in ("prepared", "ranked", "vocabulary", "row-immedctx", "row-rankdocbysnpt", "row-authorpred",
                  "decoded-immedctx", "decoded-rankdocbysnpt", "decoded-authorpred", "author-labels"):
        assert f"[{stage}] reusing" in log


def test_a_new_decoding_setting_re_decodes_without_retraining_and_alpha_is_chosen_on_validation(experiment, capsys):
    output, _, settings = experiment
    candidates = (0.0, 3.0)
    training = dataclasses.replace(settings["training"], alpha_candidates=candidates, alpha_validation_examples=4)
    capsys.readouterr()
    paths = run_experiment(**(settings | {"rows": ("ImmedCtx",), "training": training}))
    log = capsys.readouterr().err
    assert "[row-immedctx] reusing" in log and "[decoded-immedctx] building" in log
    assert "[train]" not in log
    directory = next(d for d in output.glob("artifacts/decoded-immedctx-*") if (d / "decoding.json").exists()
                     and json.loads((d / "decoding.json").read_text())["sweep"])
    record = json.loads((directory / "decoding.json").read_text())
    assert [entry["alpha"] for entry in record["sweep"]] == list(candidates)
    best = max(record["sweep"], key=lambda entry: (entry["rougeL"], -entry["alpha"]))
    assert record["alpha"] == best["alpha"] and record["chosen_on"] == "validation ROUGE-L"
    for alpha in candidates:
        validation = (directory / f"predictions-validation-alpha{alpha:g}.jsonl").read_text().splitlines()
        assert len(validation) == 4
    with open(paths["csv"], encoding="utf-8") as handle:
        table = {row["row"]: row for row in csv.DictReader(handle)}
    assert float(table["ImmedCtx"]["alpha"]) == record["alpha"]
