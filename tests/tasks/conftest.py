"""Tiny prepared/ranked/addition directories and a tiny SentencePiece vocabulary, built once per session."""

import pathlib
import sys

import pytest

import tiny_corpus

# tests/ is on sys.path (the root conftest), so tests/tasks/ would shadow the top-level `tasks` package as a
# namespace portion; with the repository root on sys.path the regular package wins.
REPO = str(pathlib.Path(__file__).resolve().parents[2])
if REPO not in sys.path:
    sys.path.append(REPO)


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    prepared = tiny_corpus.write_prepared(str(root / "prepared"))
    from personalize.vocabulary.sentencepiece_vocabulary import train_vocabulary

    return {
        "prepared": prepared,
        "ranked": tiny_corpus.write_ranked(str(root / "ranked")),
        "additions": tiny_corpus.write_additions(str(root / "additions"), skip_train=("u0-e2",)),
        "vocabulary": train_vocabulary(prepared_dir=prepared, output_path=str(root / "spm.model"), vocab_size=200),
    }
