import json

import pytest

from personalize.corpus.demo_corpus import generate_demo_corpus
from personalize.preparation.dataset import PreparedDataset, write_prepared_dataset
from personalize.preparation.prepare import prepare_corpus
from personalize.preparation.statistics import format_table1, table1_statistics


@pytest.fixture(scope="module")
def prepared():
    return prepare_corpus(generate_demo_corpus(num_users=12, seed=5))


def test_round_trip_keeps_every_example_and_document(prepared, tmp_path):
    manifest = write_prepared_dataset(output_dir=str(tmp_path), documents_by_user=prepared.documents_by_user,
                                      examples=prepared.examples, num_shards=3, settings={"name": "t"})
    dataset = PreparedDataset(str(tmp_path))
    for split in ("train", "validation", "test"):
        read = sorted(e.example_id for e in dataset.examples(split))
        assert read == sorted(e.example_id for e in prepared.examples if e.split == split)
        assert manifest["counts"][split] == len(read)
    assert dataset.documents_by_user() == prepared.documents_by_user
    assert not list(tmp_path.glob("*.tmp-*"))


def test_a_users_documents_and_examples_share_one_shard(prepared, tmp_path):
    write_prepared_dataset(output_dir=str(tmp_path), documents_by_user=prepared.documents_by_user,
                           examples=prepared.examples, num_shards=3, settings={})
    dataset = PreparedDataset(str(tmp_path))
    for shard in range(3):
        users = {d.user_id for d in dataset.documents(shard=shard)}
        for split in ("train", "validation", "test"):
            assert {e.user_id for e in dataset.examples(split, shard=shard)} <= users


def test_missing_manifest_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a prepared dataset"):
        PreparedDataset(str(tmp_path))


def test_corrupt_shard_names_file_and_line(prepared, tmp_path):
    write_prepared_dataset(output_dir=str(tmp_path), documents_by_user=prepared.documents_by_user,
                           examples=prepared.examples, num_shards=1, settings={})
    path = tmp_path / "train-00000-of-00001.jsonl"
    path.write_text(path.read_text() + "{broken\n")
    with pytest.raises(ValueError, match=r"train-00000-of-00001.jsonl:\d+: corrupt"):
        list(PreparedDataset(str(tmp_path)).examples("train"))


def test_table1_statistics_are_computed_from_the_examples(prepared):
    statistics = table1_statistics(prepared.examples)
    n = len(prepared.examples)
    assert statistics["examples"]["train"] + statistics["examples"]["validation"] + statistics["examples"]["test"] == n
    assert statistics["avg_chars_current_document"] == round(sum(len(e.target) for e in prepared.examples) / n, 1)
    assert statistics["avg_past_documents"] == round(sum(len(e.context_doc_ids) for e in prepared.examples) / n, 1)
    table = format_table1("demo", statistics)
    assert table.splitlines()[0].startswith("| dataset | avg chars of d_t | avg past docs")
    assert f"{statistics['users']['train']} / {statistics['users']['validation']}" in table
