"""METEOR as the LaMP / LongLaMP scripts compute it (Hugging Face `evaluate`'s "meteor", i.e. NLTK's
`single_meteor_score` with alpha 0.9, beta 3, gamma 0.5, averaged over examples), with WordNet read from a folder.

Differences from those scripts, both forced by having no downloaded NLTK data: WordNet comes from a configurable
database folder (Debian's `wordnet-base` by default, through the synthesis stage's reader), and sentences are split by
NLTK's Punkt algorithm with its untrained defaults instead of the downloaded English Punkt model before NLTK's word
tokenizer runs; the two split alike except around abbreviations.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Sequence

from personalize.synthesis.synonyms import DEFAULT_WORDNET_DIR, has_wordnet, open_english_wordnet

__all__ = ["DEFAULT_WORDNET_DIR", "meteor", "open_wordnet", "tokenize"]


def open_wordnet(*, directory: str = DEFAULT_WORDNET_DIR, work_dir: str | None = None) -> Any | None:
    """An NLTK WordNet reader over `directory`, or None when the folder is not a WordNet 3.0 database."""
    if not has_wordnet(directory):
        return None
    return open_english_wordnet(directory=directory, work_dir=work_dir)


@functools.lru_cache(maxsize=1)
def _tokenizers():
    from nltk.tokenize import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    return PunktSentenceTokenizer(), NLTKWordTokenizer()


def tokenize(text: str) -> list[str]:
    sentences, words = _tokenizers()
    return [token for sentence in sentences.tokenize(text) for token in words.tokenize(sentence)]


def meteor(*, targets: Sequence[str], predictions: Sequence[str], wordnet: Any) -> float:
    """Mean METEOR in [0, 1] over aligned (target, prediction) pairs."""
    from nltk.translate.meteor_score import single_meteor_score

    if len(targets) != len(predictions) or not targets:
        raise ValueError(f"METEOR needs as many predictions as targets (and some): {len(targets)} vs {len(predictions)}")
    total = sum(
        single_meteor_score(tokenize(target), tokenize(prediction), wordnet=wordnet)
        for target, prediction in zip(targets, predictions)
    )
    return total / len(targets)
