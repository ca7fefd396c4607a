"""Whose documents pre-training reads: never a user with a validation or test example; with
users='not_held_out' also the users preparation dropped, re-read from the prepared corpus's source."""

import json

import pytest

from personalize.preparation.dataset import PreparedDataset
from personalize.preparation.run import prepare_dataset
from personalize.pretraining.corpus import held_out_users, training_corpus


def _body(user: int, doc: int) -> str:
    return f"user {user} document {doc} " + " ".join(f"word{(user * 7 + doc * 3 + i) % 50}" for i in range(60))


@pytest.fixture()
def prepared(tmp_path):
    """20 users with 8 long documents each (kept and split by user) and 5 users with one document (dropped)."""
    source = tmp_path / "corpus.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for user in range(25):
            for doc in range(8 if user < 20 else 1):
                handle.write(json.dumps({"author": f"u{user}", "text": _body(user, doc), "date": doc + 1}) + "\n")
            if user == 3:  # a re-posted document: de-duplicated as preparation does
                handle.write(json.dumps({"author": "u3", "text": _body(3, 0), "date": 99}) + "\n")
    output = str(tmp_path / "prepared")
    prepare_dataset(name="fixture", format="jsonl", output_dir=output, paths=[str(source)],
                    fields="user_id=author,body=text,timestamp=date", log=lambda line: None)
    return output


def test_training_users_exclude_every_validation_and_test_user(prepared):
    corpus = training_corpus(prepared_dir=prepared, held_out_documents=4, seed=0, users="training")
    held_out = held_out_users(prepared=PreparedDataset(prepared))
    assert held_out, "the fixture has validation and test users"
    users = {d.user_id for d in corpus.train + corpus.held_out}
    assert not users & held_out
    assert not users & {f"u{u}" for u in range(20, 25)}, "dropped users are not prepared users"


def test_not_held_out_adds_the_users_preparation_dropped_and_still_excludes_held_out_users(prepared):
    training = training_corpus(prepared_dir=prepared, held_out_documents=4, seed=0, users="training")
    wider = training_corpus(prepared_dir=prepared, held_out_documents=4, seed=0, users="not_held_out")
    held_out = held_out_users(prepared=PreparedDataset(prepared))
    documents = wider.train + wider.held_out
    users = {d.user_id for d in documents}
    assert users == {f"u{u}" for u in range(25)} - held_out
    assert wider.users == len(users) == training.users + 5
    assert len(documents) == len(training.train) + len(training.held_out) + 5
    assert sum(d.user_id == "u3" for d in documents) == 8, "u3's re-post is de-duplicated"


def test_unknown_users_setting_is_named(prepared):
    with pytest.raises(ValueError, match="users must be one of training, not_held_out"):
        training_corpus(prepared_dir=prepared, held_out_documents=4, seed=0, users="everyone")


def test_a_setting_added_later_keeps_earlier_pretrainings_keys_at_its_default():
    import dataclasses

    from personalize.pretraining.run import PretrainingSettings

    settings = PretrainingSettings(train_steps=5)
    before = {name: value for name, value in dataclasses.asdict(settings).items() if name != "denoising_prefix"}
    assert settings.artifact_key() == before
    prefixed = dataclasses.replace(settings, denoising_prefix="Restore the passage: ")
    assert prefixed.artifact_key() == before | {"denoising_prefix": "Restore the passage: "}
