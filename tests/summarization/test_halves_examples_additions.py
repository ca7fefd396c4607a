"""The half split, the seq2seq examples directories, and additions written from predictions."""

import json

import pytest

from ranked_fixtures import STRATEGY, HashEncoder
from personalize.pipeline.additions import Addition
from personalize.pipeline.ranked import RankedDataset
from personalize.summarization.context_dependent import write_sumctx_examples
from personalize.summarization.context_independent import (read_summarization_corpus, write_corpus_examples,
                                                            write_sumctxind_inputs)
from personalize.summarization.halves import role, trains_summarizer
from personalize.summarization.predicted_addition import write_predicted_addition
from personalize.summarization.seq2seq_examples import read_examples


def test_half_split_is_deterministic_balanced_and_by_user():
    users = [f"user-{i}" for i in range(2000)]
    first = [trains_summarizer(user_id=u, example_id=f"{u}-e0") for u in users]
    assert first == [trains_summarizer(user_id=u, example_id=f"{u}-e9") for u in users]  # by user: same for all
    assert 900 < sum(first) < 1100
    other_seed = [trains_summarizer(user_id=u, example_id="", seed=1) for u in users]
    assert other_seed != first
    by_example = [trains_summarizer(user_id="one-user", example_id=f"e{i}", by="example") for i in range(2000)]
    assert 900 < sum(by_example) < 1100
    with pytest.raises(ValueError, match="by must be one of"):
        trains_summarizer(user_id="u", example_id="e", by="document")
    assert role(record={"split": "test", "user_id": "u", "example_id": "e"}) == "apply"


def test_sumctx_examples_partition_train_and_cover_validation_and_test(ranked_dir, tmp_path):
    output = str(tmp_path / "sumctx")
    manifest = write_sumctx_examples(ranked_dir=ranked_dir, output_dir=output, encoder=HashEncoder(), seed=0)
    ranked = RankedDataset(ranked_dir)
    train_ids = {r["example_id"] for r in ranked.examples("train")}
    trained = {r["example_id"]: r for r in read_examples(examples_dir=output, name="train")}
    applied = {r["example_id"] for r in read_examples(examples_dir=output, name="apply-train")}
    assert trained and applied and not set(trained) & applied and set(trained) | applied == train_ids
    expected_half = {r["example_id"] for r in ranked.examples("train")
                     if trains_summarizer(user_id=r["user_id"], example_id=r["example_id"])}
    assert set(trained) == expected_half
    assert manifest["files"] == {"train": len(trained), "validation": 2, "apply-train": len(applied),
                                 "apply-validation": 2, "apply-test": 2}
    record = trained[sorted(trained)[0]]
    number = record["example_id"].split("-")[1]
    assert record["inputs"] == (f"Summarize the past passages for the passage start. passage start: start of "
                                f"train-{number} past passages: Past entry {number} about gardens. Another past "
                                f"sentence {number}.")
    # d_t and the one past document are each one snippet (under 250 characters): the label is that document.
    assert record["targets"] == f"Past entry {number} about gardens. Another past sentence {number}."
    assert all(r["targets"] == "" for r in read_examples(examples_dir=output, name="apply-test"))
    assert all(r["targets"] for r in read_examples(examples_dir=output, name="validation"))


def test_predicted_addition_covers_applied_half_and_parses_keywords(ranked_dir, tmp_path):
    ranked = RankedDataset(ranked_dir)
    applied = {r["example_id"] for split in ranked.splits for r in ranked.examples(split)
               if role(record=r) == "apply"}
    predictions = {example_id: f" w1, w2 ,, w1, {example_id} " for example_id in applied}
    output = str(tmp_path / "synctx")
    write_predicted_addition(ranked=ranked, variant="SynCtx", predictions=predictions, output_dir=output)
    addition = Addition(output)
    assert addition.field == "keywords" and len(addition.shard_paths("train")) == 2
    values = {**addition.values("train"), **addition.values("validation"), **addition.values("test")}
    assert values == {example_id: ["w1", "w2", example_id] for example_id in applied}

    summaries = {r["example_id"]: f" summary of {r['example_id']} " for split in ranked.splits
                 for r in ranked.examples(split)}
    write_predicted_addition(ranked=ranked, variant="SumCtxInd", predictions=summaries, output_dir=str(tmp_path / "s"))
    assert Addition(str(tmp_path / "s")).values("train") == {
        r["example_id"]: f"summary of {r['example_id']}" for r in ranked.examples("train")}

    missing = dict(predictions)
    missing.pop("test-1")
    with pytest.raises(KeyError, match="no SynCtx prediction for test example 'test-1'"):
        write_predicted_addition(ranked=ranked, variant="SynCtx", predictions=missing, output_dir=output)
    with pytest.raises(ValueError, match="not written from predictions"):
        write_predicted_addition(ranked=ranked, variant="SynCtxInd", predictions={}, output_dir=output)


def test_summarization_corpus_reader_and_sumctxind_inputs(ranked_dir, tmp_path):
    corpus = tmp_path / "cnn.jsonl"
    corpus.write_text(json.dumps({"id": "a1", "article": "Long article.", "highlights": "Short."}) + "\n\n"
                      + json.dumps({"id": "a2", "article": "Another one.", "highlights": "Brief."}) + "\n")
    records = list(read_summarization_corpus(path=str(corpus), document_field="article", summary_field="highlights",
                                             id_field="id"))
    assert records == [{"example_id": "a1", "inputs": "summarize: Long article.", "targets": "Short."},
                       {"example_id": "a2", "inputs": "summarize: Another one.", "targets": "Brief."}]
    manifest = write_corpus_examples(train_path=str(corpus), validation_path=None, output_dir=str(tmp_path / "c"),
                                     document_field="article", summary_field="highlights")
    assert manifest["files"] == {"train": 2}
    assert [r["example_id"] for r in read_examples(examples_dir=str(tmp_path / "c"), name="train")] == ["1", "3"]
    with pytest.raises(ValueError, match=r"cnn.jsonl:1: needs a string 'document'"):
        list(read_summarization_corpus(path=str(corpus)))

    inputs = write_sumctxind_inputs(ranked_dir=ranked_dir, output_dir=str(tmp_path / "inputs"), strategy=STRATEGY)
    assert inputs["files"] == {"apply-train": 12, "apply-validation": 2, "apply-test": 2}
    first = next(read_examples(examples_dir=str(tmp_path / "inputs"), name="apply-test"))
    assert first["inputs"].startswith("summarize: Past entry ")


def test_sumctx_stage_with_gin_writes_config(ranked_dir, tmp_path):
    from personalize.summarization import run

    output = str(tmp_path / "sumctx")
    run.main(["--stage=SumCtx", f"--output_dir={output}", "--gin_file=summarization/sumctx.gin",
              f"--gin.run.write_sumctx_training_examples.ranked_dir='{ranked_dir}'",
              "--gin_bindings=from __gin__ import dynamic_registration", "--gin_bindings=import ranked_fixtures",
              "--gin_bindings=from personalize.summarization import run",
              "--gin.run.write_sumctx_training_examples.encoder=@ranked_fixtures.HashEncoder()"])
    assert {r["example_id"] for r in read_examples(examples_dir=output, name="apply-test")} == {"test-0", "test-1"}
    assert "write_sumctx_training_examples.strategy = 'RankDocBySnpt'" in open(f"{output}/config.gin").read()
