"""A rule-based English sentence splitter, for cutting documents into snippets.

NLTK's Punkt model is not shipped offline by any PyPI package (its data is a separate download), so the
rules are ours: a sentence ends at `.`, `!`, `?` or an ellipsis, together with any closing quotes or
brackets after it, when whitespace follows; and at every blank line. A period does not end a sentence
after a known abbreviation ("Mr.", "e.g.", "etc." before a lowercase word), after a single-letter
initial ("J. Smith"), or inside a number or word ("3.14", "U.S.A", "example.com": no whitespace
follows). An ellipsis, or a mark inside closing quotes ('"Stop." she said'), followed by a lowercase word
continues the sentence. Informal text often starts
sentences in lowercase, so after any other terminal mark the next word's case does not matter.
"""

from __future__ import annotations

import re

# Abbreviations after which a period never ends a sentence (titles, name parts, "No. 5", "Fig. 2").
_TITLES = frozenset(
    "mr mrs ms dr prof rev hon st jr sr sen rep gov gen col capt lt sgt maj cmdr adm fr mt ft no nos fig figs vol "
    "vols pp ch sec art op ed eds est dept univ assn bros messrs mme mlle".split()
)
# Abbreviations that end a sentence only when the next word starts with a capital letter or digit.
_TRAILING = frozenset(
    "etc al e.g i.e vs cf viz approx ca inc ltd co corp llc plc jan feb mar apr jun jul aug sep sept oct nov dec "
    "mon tue tues wed thu thur thurs fri sat sun a.m p.m u.s u.k u.n".split()
)

_CLOSERS = "\"'”’»)]}"
# A run of marks is matched only from its first mark, as one character class: "(?:\.\.\.|[.!?])+" would try every
# way of cutting a run of periods into ellipses when no whitespace follows it ("trip.......more", common in blog
# posts), exponential in the run's length.
_BOUNDARY = re.compile(rf"(?<![.!?…])[.!?…]+[{re.escape(_CLOSERS)}]*(?=\s)|\n[ \t\r\f\v]*\n")
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_NEXT_WORD = re.compile(r"\s*[\"'“‘«(\[{]*(\S)")


def _ends_sentence(text: str, start: int, end: int) -> bool:
    mark = text[start:end].rstrip(_CLOSERS)
    if mark.startswith("\n"):
        return True
    next_match = _NEXT_WORD.match(text, end)
    if next_match is None:
        return True
    next_char = next_match.group(1)
    if mark.endswith("...") or mark.endswith("…") or len(mark) < end - start:
        return not next_char.islower()
    if mark != ".":
        return True
    before = _WORD_BEFORE.search(text[max(0, start - 40) : start])
    if before is None:
        return True
    word = before.group(1).lower().strip(".")
    if word in _TITLES:
        return False
    if len(word) == 1 and word.isalpha():
        return False
    if word in _TRAILING:
        return not next_char.islower()
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`, without surrounding whitespace."""
    spans = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if not _ends_sentence(text, match.start(), match.end()):
            continue
        end = match.start() if match.group().startswith("\n") else match.end()
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    result = []
    for span_start, span_end in spans:
        piece = text[span_start:span_end]
        stripped = piece.strip()
        if stripped:
            offset = span_start + (len(piece) - len(piece.lstrip()))
            result.append((offset, offset + len(stripped)))
    return result


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, in order, each stripped of surrounding whitespace."""
    return [text[start:end] for start, end in sentence_spans(text)]
