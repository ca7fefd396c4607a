"""Keywords as text: how a keyword list is a seq2seq target, and how a model's output is read back.

The generation input lists keywords comma-separated ("important words: w1, w2"), so the synthesizer writes them
the same way.
"""

from __future__ import annotations

from typing import Sequence


def keywords_to_text(keywords: Sequence[str]) -> str:
    return ", ".join(keywords)


def parse_keywords(text: str) -> list[str]:
    """A model's comma-separated output as a keyword list: trimmed, empty items and repeats dropped, order kept."""
    return list(dict.fromkeys(item.strip() for item in text.split(",") if item.strip()))
