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
import re
from typing import Iterator

import regex

from personalize.retrieval.porter import porter_stem

# Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, which Anserini's default analyzer uses.
LUCENE_ENGLISH_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with".split()
)
MAX_TOKEN_LENGTH = 255

# Unicode's Extended_Pictographic property (emoji-data.txt, unchanged since Unicode 13), as code point
# ranges: the `regex` package's own table for it is wrong (it equals the narrower Emoji property).
_EXTENDED_PICTOGRAPHIC_RANGES = (
    "A9 AE 203C 2049 2122 2139 2194-2199 21A9-21AA 231A-231B 2328 2388 23CF 23E9-23F3 23F8-23FA 24C2 "
    "25AA-25AB 25B6 25C0 25FB-25FE 2600-2605 2607-2612 2614-2685 2690-2705 2708-2712 2714 2716 271D "
    "2721 2728 2733-2734 2744 2747 274C 274E 2753-2755 2757 2763-2767 2795-2797 27A1 27B0 27BF "
    "2934-2935 2B05-2B07 2B1B-2B1C 2B50 2B55 3030 303D 3297 3299 1F000-1F0FF 1F10D-1F10F 1F12F "
    "1F16C-1F171 1F17E-1F17F 1F18E 1F191-1F19A 1F1AD-1F1E5 1F201-1F20F 1F21A 1F22F 1F232-1F23A "
    "1F23C-1F23F 1F249-1F3FA 1F400-1F53D 1F546-1F64F 1F680-1F6FF 1F774-1F77F 1F7D5-1F7FF 1F80C-1F80F "
    "1F848-1F84F 1F85A-1F85F 1F888-1F88F 1F8AE-1F8FF 1F90C-1F93A 1F93C-1F945 1F947-1FAFF 1FC00-1FFFD "
)


def _code_point_class(ranges: str) -> str:
    parts = []
    for item in ranges.split():
        first, _, last = item.partition("-")
        parts.append(f"\\U{int(first, 16):08X}" + (f"-\\U{int(last, 16):08X}" if last else ""))
    return "[" + "".join(parts) + "]"


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
_PICTOGRAPH = _code_point_class(_EXTENDED_PICTOGRAPHIC_RANGES)
_EMOJI_CHAR = rf"(?:{_PICTOGRAPH}|\p{{Emoji}}\uFE0F)[\p{{WB=Extend}}\p{{WB=Format}}]*"
_EMOJI = rf"\p{{WB=Regional_Indicator}}{{2}}|{_EMOJI_CHAR}(?:\u200D{_EMOJI_CHAR})*+"

_TOKEN = regex.compile(
    "|".join(f"(?:{part})" for part in (_WORD, _IDEOGRAPH, _KATAKANA, _SOUTHEAST_ASIAN, _EMOJI)),
    regex.VERSION1,
)
# The same rules restricted to ASCII (no Extend/Format characters, no emoji, no ideographs there): a
# much faster path (the standard `re` engine) for the common all-ASCII text, giving the same tokens.
_ASCII_LETTER_RUN = r"[A-Za-z]++(?:[:.'][A-Za-z]++)*+"
_ASCII_NUMBER_RUN = r"[0-9]++(?:[,.;'][0-9]++)*+"
_ASCII_TOKEN = re.compile(rf"_*+(?:{_ASCII_LETTER_RUN}|{_ASCII_NUMBER_RUN})(?:_++|{_ASCII_LETTER_RUN}|{_ASCII_NUMBER_RUN})*+")
_POSSESSIVE_MARKS = frozenset("'\u2019\uff07")


def standard_tokens(text: str) -> Iterator[str]:
    """Lucene StandardTokenizer's tokens (before any filter), longer ones cut into 255-character pieces."""
    pattern = _ASCII_TOKEN if text.isascii() else _TOKEN
    for match in pattern.finditer(text):
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
