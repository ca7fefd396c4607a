"""Text -> token ids for the sentence encoders, exactly as sentence-transformers prepares them.

The `tokenizers` package reads the same tokenizer.json the reference reads, so WordPiece (MiniLM) and Unigram
(GTR) tokenisation, special tokens ([CLS] ... [SEP], ... </s>) and truncation to max_seq_length (special tokens
included) match by construction. Folders without a tokenizer.json fall back to vocab.txt (WordPiece) or
spiece.model (SentencePiece, with T5's </s> appended).
"""

from __future__ import annotations

import json
import os
from typing import Sequence

import tokenizers
from tokenizers.implementations import BaseTokenizer

PAD_ID = 0


class SentenceTokenizer:
    """Encodes a batch of texts to unpadded id lists of at most `max_seq_length` ids."""

    def __init__(self, *, tokenizer: tokenizers.Tokenizer | BaseTokenizer, max_seq_length: int, do_lower_case: bool,
                 source: str):
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_seq_length)
        self.max_seq_length = max_seq_length
        self.do_lower_case = do_lower_case
        self.source = source

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        if self.do_lower_case:
            texts = [t.lower() for t in texts]
        return [e.ids for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=True)]


class SentencePieceTokenizer:
    """T5 tokenisation from a bare spiece.model: pieces, truncated, then </s> (id 1)."""

    def __init__(self, *, model_file: str, max_seq_length: int, do_lower_case: bool):
        import sentencepiece

        self._processor = sentencepiece.SentencePieceProcessor(model_file=model_file)
        self._eos_id = self._processor.eos_id()
        if self._eos_id < 0:
            raise ValueError(f"{model_file}: the SentencePiece model has no EOS piece, which T5 encoders need")
        self.max_seq_length = max_seq_length
        self.do_lower_case = do_lower_case
        self.source = model_file

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        if self.do_lower_case:
            texts = [t.lower() for t in texts]
        return [ids[: self.max_seq_length - 1] + [self._eos_id] for ids in self._processor.encode(list(texts))]


def _pad_token_id(tokenizer: tokenizers.Tokenizer, tokenizer_file: str) -> int | None:
    with open(tokenizer_file, encoding="utf-8") as f:
        padding = json.load(f).get("padding") or {}
    if "pad_id" in padding:
        return int(padding["pad_id"])
    for token in ("[PAD]", "<pad>"):
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return token_id
    return None


def load_tokenizer(*, path: str, max_seq_length: int, do_lower_case: bool
                   ) -> SentenceTokenizer | SentencePieceTokenizer:
    """Finds the tokenizer files of a model folder; the encoders pad with id 0, so a different pad id is refused."""
    if max_seq_length < 2:
        raise ValueError(f"max_seq_length must be >= 2 to hold the special tokens, got {max_seq_length}")
    tokenizer_file = os.path.join(path, "tokenizer.json")
    if os.path.exists(tokenizer_file):
        tokenizer = tokenizers.Tokenizer.from_file(tokenizer_file)
        pad_id = _pad_token_id(tokenizer, tokenizer_file)
        if pad_id not in (None, PAD_ID):
            raise ValueError(f"{tokenizer_file}: pad id is {pad_id}; the encoders need pad id {PAD_ID}")
        return SentenceTokenizer(tokenizer=tokenizer, max_seq_length=max_seq_length, do_lower_case=do_lower_case,
                                 source=tokenizer_file)
    vocab_file = os.path.join(path, "vocab.txt")
    if os.path.exists(vocab_file):
        lowercase = True
        config_file = os.path.join(path, "tokenizer_config.json")
        if os.path.exists(config_file):
            with open(config_file, encoding="utf-8") as f:
                lowercase = bool(json.load(f).get("do_lower_case", True))
        wordpiece = tokenizers.BertWordPieceTokenizer(vocab_file, lowercase=lowercase)
        return SentenceTokenizer(tokenizer=wordpiece, max_seq_length=max_seq_length,
                                 do_lower_case=do_lower_case, source=vocab_file)
    spiece_file = os.path.join(path, "spiece.model")
    if os.path.exists(spiece_file):
        return SentencePieceTokenizer(model_file=spiece_file, max_seq_length=max_seq_length,
                                      do_lower_case=do_lower_case)
    raise FileNotFoundError(f"{path}: no tokenizer.json, vocab.txt or spiece.model")
