"""Stage additions (summaries, keywords): written and read back in the documented format, bad values refused."""

import json

import pytest

from personalize.pipeline.additions import Addition, write_addition


def test_round_trip(tmp_path):
    manifest = write_addition(output_dir=str(tmp_path), variant="SynCtx",
                              shards={"train": [[{"example_id": "a", "keywords": ["x", "y"]}], []],
                                      "test": [[{"example_id": "b", "keywords": []}]]})
    assert manifest == {"format": "personalize.addition/1", "field": "keywords", "variant": "SynCtx",
                        "shards": {"train": ["train-00000-of-00002.jsonl", "train-00001-of-00002.jsonl"],
                                   "test": ["test-00000-of-00001.jsonl"]}}
    addition = Addition(str(tmp_path))
    assert (addition.variant, addition.field) == ("SynCtx", "keywords")
    assert addition.values("train") == {"a": ["x", "y"]}
    assert addition.values("train", shard=1) == {}
    assert json.loads((tmp_path / "test-00000-of-00001.jsonl").read_text()) == {"example_id": "b", "keywords": []}


def test_bad_values_and_directories_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="'summary' must be a string"):
        write_addition(output_dir=str(tmp_path / "s"), variant="SumCtx", shards={"train": [[{"example_id": "a", "summary": ["x"]}]]})
    with pytest.raises(ValueError, match="unknown addition variant"):
        write_addition(output_dir=str(tmp_path / "s"), variant="Sum", shards={})
    with pytest.raises(FileNotFoundError, match="not a stage addition"):
        Addition(str(tmp_path / "nothing"))
    write_addition(output_dir=str(tmp_path / "k"), variant="SumCtx", shards={"train": [[{"example_id": "a", "summary": "s"}]]})
    with pytest.raises(KeyError, match="no 'test' shards"):
        Addition(str(tmp_path / "k")).values("test")
