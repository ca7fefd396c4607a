"""Pyserini's default English analyzer, re-implemented in Python so in-process BM25 sees Lucene's terms.

Anserini's `DefaultEnglishAnalyzer` (what `pyserini.analysis.get_lucene_analyzer()` and Lucene indexing
use by default) is: StandardTokenizer (Unicode UAX #29 word boundaries, tokens cut at 255 characters)
-> English possessive filter (drops a final 's / ’s) -> lowercase -> Lucene's 33 English stopwords
-> Porter stemmer. The tokenizer below implements the UAX #29 rules that matter for text (letters,
digits, apostrophes and periods inside words, underscores, ideographs one per token, Katakana runs,
Southeast Asian runs, emoji sequences); Unicode tables come from the `regex` package.

Known differences (rare, none in the blog test corpus): Hebrew-letter quote rules, Katakana joined to
letters through underscores, and lengths counted in code points where Java counts UTF-16 units.
"""

from __future__ import annotations

import functools
from typing import Iterator

import regex

from personalize.retrieval.porter import porter_stem

# Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, which Anserini's default analyzer uses.
LUCENE_ENGLISH_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with".split()
)
MAX_TOKEN_LENGTH = 255

_EXT = r"[\p{WB=Extend}\p{WB=Format}\p{WB=ZWJ}]*"
_LETTER = rf"[\p{{WB=ALetter}}\p{{WB=Hebrew_Letter}}]{_EXT}"
_DIGIT = rf"\p{{WB=Numeric}}{_EXT}"
_CONNECTOR = rf"\p{{WB=ExtendNumLet}}{_EXT}"
_MID_LETTER = rf"[\p{{WB=MidLetter}}\p{{WB=MidNumLet}}\p{{WB=Single_Quote}}]{_EXT}"
_MID_NUMBER = rf"[\p{{WB=MidNum}}\p{{WB=MidNumLet}}\p{{WB=Single_Quote}}]{_EXT}"
# Letters joined by ' . : (UAX #29 WB6/7); digits joined by , . ; (WB11/12); letters and digits
# adjacent (WB9/10); underscores join anything (WB13a/b). A token needs a letter or a digit.
_LETTER_RUN = rf"(?:{_LETTER})++(?:{_MID_LETTER}(?:{_LETTER})++)*+"
_NUMBER_RUN = rf"(?:{_DIGIT})++(?:{_MID_NUMBER}(?:{_DIGIT})++)*+"
_WORD = rf"(?:{_CONNECTOR})*+(?:{_LETTER_RUN}|{_NUMBER_RUN})(?:(?:{_CONNECTOR})++|{_LETTER_RUN}|{_NUMBER_RUN})*+"
_IDEOGRAPH = rf"[\p{{Script=Han}}\p{{Script=Hiragana}}]{_EXT}"
_KATAKANA = rf"(?:\p{{WB=Katakana}}{_EXT})++"
_SOUTHEAST_ASIAN = rf"(?:\p{{Line_Break=Complex_Context}}{_EXT})++"
_EMOJI_CHAR = rf"(?:\p{{Extended_Pictographic}}|\p{{Emoji}}\uFE0F){_EXT}"
_EMOJI = rf"\p{{WB=Regional_Indicator}}{{2}}|{_EMOJI_CHAR}(?:\u200D{_EMOJI_CHAR})*+"

_TOKEN = regex.compile(
    "|".join(f"(?:{part})" for part in (_WORD, _IDEOGRAPH, _KATAKANA, _SOUTHEAST_ASIAN, _EMOJI)),
    regex.VERSION1,
)
_POSSESSIVE_MARKS = frozenset("'\u2019\uff07")


def standard_tokens(text: str) -> Iterator[str]:
    """Lucene StandardTokenizer's tokens (before any filter), longer ones cut into 255-character pieces."""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if len(token) <= MAX_TOKEN_LENGTH:
            yield token
        else:
            for start in range(0, len(token), MAX_TOKEN_LENGTH):
                yield token[start : start + MAX_TOKEN_LENGTH]


def _java_lower_char(ch: str) -> str:
    lowered = ch.lower()
    if len(lowered) == 1:
        return lowered
    # Java's Character.toLowerCase maps one code point to one; Python expands a few (U+0130 -> i + dot).
    return lowered[0]


def java_lowercase(token: str) -> str:
    """Lowercases code point by code point, as Lucene's LowerCaseFilter (no final-sigma rule)."""
    if token.isascii():
        return token.lower()
    return "".join(_java_lower_char(ch) for ch in token)


@functools.lru_cache(maxsize=1 << 18)
def _stem(term: str) -> str:
    return porter_stem(term)


def analyze(text: str) -> list[str]:
    """The terms Pyserini's default English analyzer produces for `text`, in order."""
    terms = []
    for token in standard_tokens(text):
        if len(token) >= 2 and token[-1] in "sS" and token[-2] in _POSSESSIVE_MARKS:
            token = token[:-2]
        term = java_lowercase(token)
        if term in LUCENE_ENGLISH_STOPWORDS:
            continue
        terms.append(_stem(term))
    return terms
