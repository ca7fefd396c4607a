"""The tiny corpus of tests/tasks, and the repository root on sys.path so `tasks` is the real package."""

import importlib.util
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))
_spec = importlib.util.spec_from_file_location("tiny_corpus", REPO / "tests" / "tasks" / "tiny_corpus.py")
tiny_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_corpus)


@pytest.fixture
def tiny():
    return tiny_corpus


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """The 'insp' dataset registered with every input; returns the directories."""
    import tasks
    from personalize.vocabulary.sentencepiece_vocabulary import train_vocabulary

    root = tmp_path_factory.mktemp("inspect")
    dirs = {"prepared": tiny_corpus.write_prepared(str(root / "prepared")),
            "ranked": tiny_corpus.write_ranked(str(root / "ranked")),
            "additions": tiny_corpus.write_additions(str(root / "additions"))}
    dirs["vocabulary"] = train_vocabulary(prepared_dir=dirs["prepared"], output_path=str(root / "spm.model"), vocab_size=200)
    tasks.register_dataset(name="insp", ranked_dir=dirs["ranked"], additions=dirs["additions"],
                           vocabulary=dirs["vocabulary"], prepared_dir=dirs["prepared"])
    return dirs
