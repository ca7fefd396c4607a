"""SeqIO registration: names, rows present only with their inputs, idempotency, exact tokens, no leaks."""

import json
import shutil

import pytest

import seqio

import tasks  # noqa: E402
import tiny_corpus  # noqa: E402
from personalize.generation.rows import GENERATION_ROWS  # noqa: E402

ALL_ROWS = [tasks.task_name(dataset="full", row=r) for r in GENERATION_ROWS]
LENGTHS = {"inputs": 512, "targets": 256}


def _register_full(tiny_dirs, name="full"):
    return tasks.register_dataset(name=name, ranked_dir=tiny_dirs["ranked"], additions=tiny_dirs["additions"],
                                  vocabulary=tiny_dirs["vocabulary"], prepared_dir=tiny_dirs["prepared"])


def _texts(name, split, **kwargs):
    task = seqio.get_mixture_or_task(name)
    dataset = task.get_dataset(sequence_length=LENGTHS, split=split, shuffle=False, num_epochs=1, **kwargs)
    return list(dataset.as_numpy_iterator())


def test_task_names():
    assert tasks.task_name(dataset="demo", row="+SumCtx") == "personalize_demo_sumctx_v1"
    assert tasks.task_name(dataset="demo", row="+AuthorPred") == "personalize_demo_authorpred_v1"
    assert tasks.task_name(dataset="demo", row="RankDocBySnpt") == "personalize_demo_rankdocbysnpt_v1"
    with pytest.raises(ValueError, match="unknown row"):
        tasks.task_name(dataset="demo", row="Random")
    with pytest.raises(ValueError, match="may only use"):
        tasks.task_name(dataset="my-data", row="ImmedCtx")


def test_every_row_and_the_mixture_when_all_inputs_exist(tiny_dirs):
    names = _register_full(tiny_dirs)
    assert names == ALL_ROWS + ["personalize_full_authordistinction_v1", "personalize_full_authorpred_v1"]
    mixture = seqio.get_mixture_or_task("personalize_full_authorpred_v1")
    assert sorted((t.name, mixture.get_rate(t)) for t in mixture.tasks) == [
        ("personalize_full_authordistinction_v1", 1.0), ("personalize_full_synctx_v1", 1.0)]
    assert seqio.get_mixture_or_task("personalize_full_authordistinction_v1").splits == ("train",)


def test_rows_without_inputs_are_not_registered_and_reregistration_is_idempotent(tiny_dirs, tmp_path):
    ranked = tiny_corpus.write_ranked(str(tmp_path / "ranked"), strategies=("RecentDoc", "RankDocBM25"))
    first = _register_full(tiny_dirs, name="partial")
    assert len(first) == 13
    again = tasks.register_dataset(name="partial", ranked_dir=ranked, vocabulary=tiny_dirs["vocabulary"],
                                   additions={"SumCtx": tiny_dirs["additions"]["SumCtx"]})
    # No prepared_dir: no UserID, author distinction or mixture; no RankDocBySnpt: no summary rows on it.
    assert again == ["personalize_partial_immedctx_v1", "personalize_partial_recentdoc_v1",
                     "personalize_partial_rankdocbm25_v1"]
    registered = {n for n in seqio.TaskRegistry.names() | seqio.MixtureRegistry.names() if n.startswith("personalize_partial_")}
    assert registered == set(again)
    on_bm25 = tasks.register_dataset(name="partial", ranked_dir=ranked, vocabulary=tiny_dirs["vocabulary"],
                                     additions={"SumCtx": tiny_dirs["additions"]["SumCtx"]}, base_ranking="RankDocBM25")
    assert on_bm25 == again + ["personalize_partial_sumctx_v1"]
    assert on_bm25 == tasks.register_dataset(name="partial", ranked_dir=ranked, vocabulary=tiny_dirs["vocabulary"],
                                             additions={"SumCtx": tiny_dirs["additions"]["SumCtx"]}, base_ranking="RankDocBM25")


def test_get_dataset_yields_exact_tokens(tiny_dirs):
    _register_full(tiny_dirs)
    vocabulary = seqio.SentencePieceVocabulary(tiny_dirs["vocabulary"], extra_ids=100)
    examples = _texts("personalize_full_synctx_v1", "validation")
    assert [e["example_id"].decode() for e in examples] == ["v0-e2", "v0-e3", "v0-e4"]
    first = examples[0]
    expected = ("Finish the passage in the user voice. passage start: title v0 3\n" + tiny_corpus.body("v0", 3)[:150]
                + " summary: SumCtx summary of v0-e2 important words: synctx, v0, river past passages: "
                + "[RankDocBySnpt] v0-d2 | v0-d1")
    assert first["inputs_pretokenized"].decode() == expected
    assert first["inputs"].tolist() == vocabulary.encode(expected)[: LENGTHS["inputs"] - 1] + [1]
    assert first["targets"].tolist() == vocabulary.encode(tiny_corpus.body("v0", 3)) + [1]


def test_training_tasks_hold_no_held_out_user(tiny_dirs):
    _register_full(tiny_dirs)
    for name in ALL_ROWS + ["personalize_full_authordistinction_v1"]:
        if name == "personalize_full_userid_v1":
            continue
        source = seqio.get_mixture_or_task(name).source.get_dataset(split="train", shuffle=False)
        texts = [e["inputs"].decode() + e["targets"].decode() for e in source.as_numpy_iterator()]
        assert texts and not any(f"{u} doc" in text or f"{u}-d" in text for text in texts for u in ("v0", "t0")), name
    validation_users = {e["user_id"].decode() for e in _texts("personalize_full_immedctx_v1", "validation")}
    assert validation_users == {"v0"}


def test_user_id_trains_on_held_out_users_strictly_earlier_documents(tiny_dirs):
    _register_full(tiny_dirs)
    extras = [e for e in _texts("personalize_full_userid_v1", "train") if e["example_id"].startswith(b"userid-extra:")]
    # Their first examples are document 3 (day 3); document 1 is too short, so only document 2 of each.
    assert sorted(e["example_id"].decode() for e in extras) == ["userid-extra:t0:t0-d2", "userid-extra:v0:v0-d2"]
    assert {e["targets_pretokenized"].decode() for e in extras} == {tiny_corpus.body("t0", 2), tiny_corpus.body("v0", 2)}
    assert extras[0]["inputs_pretokenized"].decode().startswith("Finish the passage in the user voice. user id: ")


def test_missing_additions_skip_training_examples_but_fail_evaluation(tiny_dirs, tmp_path):
    _register_full(tiny_dirs)
    train_ids = [e["example_id"].decode() for e in _texts("personalize_full_sumctx_v1", "train")]
    assert len(train_ids) == 17 and "u0-e2" not in train_ids
    additions = dict(tiny_dirs["additions"])
    broken = tmp_path / "SumCtx"
    shutil.copytree(additions["SumCtx"], broken)
    for path in broken.glob("validation-*.jsonl"):
        path.write_text("".join(line for line in path.read_text().splitlines(True) if "v0-e3" not in line))
    additions["SumCtx"] = str(broken)
    tasks.register_dataset(name="broken", ranked_dir=tiny_dirs["ranked"], additions=additions,
                           vocabulary=tiny_dirs["vocabulary"])
    with pytest.raises(Exception, match="no SumCtx for validation example 'v0-e3'"):
        _texts("personalize_broken_sumctx_v1", "validation")


def test_wrong_addition_and_missing_ranked_dir_fail_clearly(tiny_dirs, tmp_path):
    with pytest.raises(ValueError, match="holds the 'SumCtxInd' addition, but was given as 'SumCtx'"):
        tasks.register_dataset(name="x", ranked_dir=tiny_dirs["ranked"], vocabulary=tiny_dirs["vocabulary"],
                               additions={"SumCtx": tiny_dirs["additions"]["SumCtxInd"]})
    with pytest.raises(FileNotFoundError, match="not a finished ranked-contexts directory"):
        tasks.register_dataset(name="x", ranked_dir=str(tmp_path), vocabulary=tiny_dirs["vocabulary"])


def test_environment_registration(tiny_dirs, monkeypatch):
    entry = {"name": "fromenv", "ranked_dir": tiny_dirs["ranked"], "vocabulary": tiny_dirs["vocabulary"]}
    monkeypatch.setenv("PERSONALIZE_DATASETS", json.dumps([entry]))
    assert "personalize_fromenv_rankdocbysnpt_v1" in tasks.register_from_environment()
    assert "personalize_fromenv_immedctx_v1" in seqio.TaskRegistry.names()
    monkeypatch.setenv("PERSONALIZE_DATASETS", "{not json")
    with pytest.raises(ValueError, match="PERSONALIZE_DATASETS is not valid JSON"):
        tasks.register_from_environment()


def test_packed_feature_conversion(tiny_dirs):
    _register_full(tiny_dirs)
    task = seqio.get_mixture_or_task("personalize_full_authorpred_v1")
    dataset = task.get_dataset(sequence_length=LENGTHS, split="train", shuffle=True, seed=3, num_epochs=1)
    converted = seqio.EncDecFeatureConverter(pack=True)(dataset, LENGTHS)
    batch = next(converted.as_numpy_iterator())
    assert batch["encoder_input_tokens"].shape == (512,) and batch["decoder_target_tokens"].shape == (256,)
