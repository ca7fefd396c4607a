"""sumctxind_corpus='training-headlines': the training users' titled documents become SumCtxInd's corpus."""

import json

from personalize.experiment.artifacts import ArtifactStore
from personalize.experiment.runner import _training_headlines
from personalize.preparation.dataset import write_prepared_dataset
from tests.tasks import tiny_corpus


def test_headlines_of_training_users_only_built_once(tmp_path):
    prepared = tiny_corpus.write_prepared(str(tmp_path / "prepared"))
    logs = []
    store = ArtifactStore(str(tmp_path / "artifacts"), log=logs.append)
    path = _training_headlines(store=store, prepared_dir=prepared, ranked_key={"prepared": "p"})
    records = [json.loads(line) for line in open(path, encoding="utf-8")]
    training = {user for user, split in tiny_corpus.USERS.items() if split == "train"}
    titled = [d for user in sorted(training) for d in tiny_corpus.documents()[user] if d.title]
    assert sorted(r["id"] for r in records) == sorted(f"{d.user_id}/{d.doc_id}" for d in titled if len(d.body) >= 100)
    assert all(r["summary"].startswith("title u") for r in records)
    assert _training_headlines(store=store, prepared_dir=prepared, ranked_key={"prepared": "p"}) == path
    assert any("[headline-corpus] reusing" in line for line in logs)


def test_untitled_corpus_gives_no_headlines(tmp_path):
    import dataclasses

    documents = {user: [dataclasses.replace(d, title=None) for d in docs]
                 for user, docs in tiny_corpus.documents().items()}
    examples = tiny_corpus.examples()
    prepared = str(tmp_path / "prepared")
    write_prepared_dataset(output_dir=prepared, documents_by_user=documents, examples=examples, num_shards=1,
                           settings={"name": "untitled"})
    store = ArtifactStore(str(tmp_path / "artifacts"), log=lambda line: None)
    assert _training_headlines(store=store, prepared_dir=prepared, ranked_key={"prepared": "q"}) is None
