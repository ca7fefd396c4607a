"""A long run checks its outside resources before its first stage: without WordNet, +SynCtx stops at once."""

import pytest

from personalize.experiment import runner
from personalize.synthesis import synonyms


def test_missing_wordnet_stops_the_experiment_before_preparing(tmp_path, monkeypatch):
    empty = tmp_path / "no-wordnet"
    empty.mkdir()
    monkeypatch.setattr(synonyms, "DEFAULT_WORDNET_DIR", str(empty))
    prepared = []
    with pytest.raises(FileNotFoundError, match=f"{empty}: not a WordNet 3.0 database.*PERSONALIZE_WORDNET_DIR"):
        runner.run_experiment(output_dir=str(tmp_path / "run"), prepare=lambda **kw: prepared.append(kw),
                              model_config=None, rows=("ImmedCtx", "+SynCtx"))
    assert prepared == [] and not (tmp_path / "run").exists()


def test_the_wordnet_folder_can_be_named_in_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(synonyms.WORDNET_ENV, str(tmp_path))
    assert synonyms.wordnet_candidates() == [str(tmp_path)]
    assert synonyms.default_wordnet_dir() == str(tmp_path)
