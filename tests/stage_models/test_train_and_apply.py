"""train_and_apply end to end with a tiny T5: the addition covers exactly the examples it should, and a second
call reuses the checkpoint instead of training again."""

import json
import os
import shutil

import pytest

from personalize.models.t5.config import T5Config
from personalize.pipeline.additions import Addition
from personalize.pipeline.ranked import RankedDataset
from personalize.stage_models.train_apply import train_and_apply
from personalize.summarization.halves import role

CONFIG = T5Config(emb_dim=16, num_heads=2, head_dim=8, mlp_dim=32, num_encoder_layers=1, num_decoder_layers=1,
                  vocab_size=128, dropout_rate=0.0, dtype="float32")
SETTINGS = {"model_config": CONFIG, "train_steps": 4, "batch_size": 8, "inputs_length": 48, "targets_length": 12,
            "learning_rate": 0.01, "warmup_steps": 1, "decode_method": "greedy", "decode_batch_size": 8}


def _expected_ids(ranked_dir, *, weak_labels):
    ranked = RankedDataset(ranked_dir)
    return {split: sorted(r["example_id"] for r in ranked.examples(split)
                          if not weak_labels or role(record=r) == "apply")
            for split in ranked.splits}


def _metrics_lines(output_dir):
    with open(os.path.join(output_dir, "model", "metrics.jsonl"), encoding="utf-8") as handle:
        return handle.readlines()


@pytest.mark.slow
def test_sumctx_addition_covers_the_other_half_and_reuses_its_checkpoint(stage_dirs, tmp_path):
    output = str(tmp_path / "SumCtx")
    first = train_and_apply(examples_dir=stage_dirs["SumCtx"], output_dir=output, variant="SumCtx",
                            vocabulary_path=stage_dirs["vocabulary"], **SETTINGS)
    assert first["trained"] is True
    addition = Addition(output)
    assert (addition.variant, addition.field) == ("SumCtx", "summary")
    expected = _expected_ids(stage_dirs["ranked"], weak_labels=True)
    all_train = {r["example_id"] for r in RankedDataset(stage_dirs["ranked"]).examples("train")}
    trained_half = all_train - set(expected["train"])
    assert expected["train"] and trained_half  # both halves are non-empty, so the check below can fail
    values = {split: addition.values(split) for split in addition.splits()}
    assert {split: sorted(v) for split, v in values.items()} == expected
    assert all(isinstance(text, str) for split_values in values.values() for text in split_values.values())
    assert first["files"] == {f"apply-{split}": len(ids) for split, ids in expected.items()}
    metrics = _metrics_lines(output)
    assert max(json.loads(line)["step"] for line in metrics) == 4

    # Second call, predictions removed: no training (the metrics log is untouched), decoding from the restored
    # checkpoint gives the same addition.
    shutil.rmtree(os.path.join(output, "predictions"))
    second = train_and_apply(examples_dir=stage_dirs["SumCtx"], output_dir=output, variant="SumCtx",
                             vocabulary_path=stage_dirs["vocabulary"], **SETTINGS)
    assert second["trained"] is False
    assert _metrics_lines(output) == metrics
    assert {split: Addition(output).values(split) for split in addition.splits()} == values


@pytest.mark.slow
def test_synctx_addition_holds_keyword_lists(stage_dirs, tmp_path):
    output = str(tmp_path / "SynCtx")
    train_and_apply(examples_dir=stage_dirs["SynCtx"], output_dir=output, variant="SynCtx",
                    vocabulary_path=stage_dirs["vocabulary"], **{**SETTINGS, "train_steps": 2})
    addition = Addition(output)
    assert (addition.variant, addition.field) == ("SynCtx", "keywords")
    values = {split: addition.values(split) for split in addition.splits()}
    assert {split: sorted(v) for split, v in values.items()} == _expected_ids(stage_dirs["ranked"], weak_labels=True)
    for split_values in values.values():
        for keywords in split_values.values():
            assert isinstance(keywords, list) and all(isinstance(w, str) and w == w.strip() and w for w in keywords)


def test_refuses_examples_of_another_variant(stage_dirs, tmp_path):
    with pytest.raises(ValueError, match="holds 'SumCtx' examples, not 'SynCtx'"):
        train_and_apply(examples_dir=stage_dirs["SumCtx"], output_dir=str(tmp_path / "x"), variant="SynCtx",
                        vocabulary_path=stage_dirs["vocabulary"], **SETTINGS)


def test_refuses_zero_steps_without_a_checkpoint(stage_dirs, tmp_path):
    with pytest.raises(ValueError, match="0 with an initial_checkpoint"):
        train_and_apply(examples_dir=stage_dirs["SumCtx"], output_dir=str(tmp_path / "x"), variant="SumCtx",
                        vocabulary_path=stage_dirs["vocabulary"], **{**SETTINGS, "train_steps": 0})
