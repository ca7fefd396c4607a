"""Vocabulary training: deterministic, training users only, T5's special ids; loading with extra ids."""

import importlib.util
import pathlib

import pytest

from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary, train_vocabulary, training_texts

_spec = importlib.util.spec_from_file_location("tiny_corpus", pathlib.Path(__file__).parents[1] / "tasks" / "tiny_corpus.py")
tiny_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_corpus)


@pytest.fixture
def prepared(tmp_path):
    return tiny_corpus.write_prepared(str(tmp_path / "prepared"))


def test_training_texts_come_from_training_users_only(prepared):
    texts = list(training_texts(prepared_dir=prepared))
    assert texts[0].startswith("Finish the passage in the user voice.")
    assert len(texts) == 2 + 6 * 5 + 6 * 3  # the prompts; six training users: five bodies, three titles each
    assert not any(text.startswith(("v0", "t0", "title v0", "title t0")) for text in texts)


def test_training_is_deterministic_with_t5_ids(prepared, tmp_path):
    import sentencepiece

    first = train_vocabulary(prepared_dir=prepared, output_path=str(tmp_path / "a" / "spm.model"), vocab_size=120)
    second = train_vocabulary(prepared_dir=prepared, output_path=str(tmp_path / "b.model"), vocab_size=120)
    assert pathlib.Path(first).read_bytes() == pathlib.Path(second).read_bytes()
    processor = sentencepiece.SentencePieceProcessor(model_file=first)
    assert (processor.pad_id(), processor.eos_id(), processor.unk_id(), processor.bos_id()) == (0, 1, 2, -1)
    assert processor.get_piece_size() <= 120


def test_loading_adds_extra_ids(prepared, tmp_path):
    path = train_vocabulary(prepared_dir=prepared, output_path=str(tmp_path / "spm.model"), vocab_size=120)
    import sentencepiece

    pieces = sentencepiece.SentencePieceProcessor(model_file=path).get_piece_size()
    vocabulary = load_vocabulary(path=path, extra_ids=100)
    assert vocabulary.vocab_size == pieces + 100
    for text in ("river garden", "Finish the passage in the user voice. important words: past passages:"):
        assert vocabulary.decode(vocabulary.encode(text)) == text
    with pytest.raises(FileNotFoundError, match="nowhere.model does not exist"):
        load_vocabulary(path=str(tmp_path / "nowhere.model"))
