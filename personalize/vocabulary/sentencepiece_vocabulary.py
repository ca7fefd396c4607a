"""Loading a SentencePiece vocabulary for SeqIO, or training one on a prepared dataset's training users.

IDs follow T5: pad 0, eos 1, unk 2, no bos; `extra_ids` sentinel tokens are appended by SeqIO (T5: 100).
"""

from __future__ import annotations

import os
from typing import Iterator

from personalize.preparation.dataset import PreparedDataset


def load_vocabulary(*, path: str, extra_ids: int = 100):
    """A seqio.SentencePieceVocabulary from a local .model file (e.g. T5's cc_all.32000 sentencepiece.model)."""
    import seqio  # heavy (TensorFlow): only when a vocabulary is really needed

    if not os.path.exists(path):
        raise FileNotFoundError(f"SentencePiece model {path} does not exist (give a local .model file, or train one)")
    return seqio.SentencePieceVocabulary(path, extra_ids=extra_ids)


# The prompts' own words, so a vocabulary trained on documents alone still spells every prompt.
PROMPT_TEXTS = (
    "Finish the passage in the user voice. user id: passage start: summary: important words: past passages:",
    "Predict whether two passages are from the same author. passage 1: passage 2: true false",
)


def training_texts(*, prepared_dir: str) -> Iterator[str]:
    """The prompt texts, then the non-empty lines of the documents (title and body) of training-only users."""
    yield from PROMPT_TEXTS
    prepared = PreparedDataset(prepared_dir)
    train_users = {example.user_id for example in prepared.examples("train")}
    held_out = {example.user_id for split in ("validation", "test") for example in prepared.examples(split)}
    users = train_users - held_out
    for document in prepared.documents():
        if document.user_id not in users:
            continue
        for text in (document.title or "", document.body):
            for line in text.splitlines():
                if line.strip():
                    yield line.strip()


def train_vocabulary(
    *,
    prepared_dir: str,
    output_path: str,
    vocab_size: int = 32000,
    model_type: str = "unigram",
    character_coverage: float = 0.9999,
    max_sentence_length: int = 16384,
) -> str:
    """Trains a SentencePiece model on the training users' documents and writes it to `output_path`.

    Deterministic: one thread, every line in file order, no sampling. `hard_vocab_limit=False` lets a small
    corpus end below `vocab_size` instead of failing. The prompts' characters (e.g. ':') are always kept,
    whatever `character_coverage` drops.
    """
    import io

    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=training_texts(prepared_dir=prepared_dir),
        model_writer=model,
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=character_coverage,
        hard_vocab_limit=False,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        num_threads=1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        max_sentence_length=max_sentence_length,
        required_chars="".join(sorted(set("".join(PROMPT_TEXTS)) - {" "})),
        minloglevel=2,
    )
    os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
    temporary = f"{output_path}.tmp-{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(model.getvalue())
    os.replace(temporary, output_path)
    return output_path
