"""Words as the synthesis stage counts them: lowercase letter runs, English stopwords removed.

The stopword list is NLTK's classic English list (179 words), written here so no corpus download is needed.
A word is a run of letters with inner apostrophes ("don't"); a final possessive 's is dropped ("john's" ->
"john"); digits and punctuation separate words and are never words themselves.
"""

from __future__ import annotations

import re
from typing import Iterator

ENGLISH_STOPWORDS = frozenset("""
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him his
himself she she's her hers herself it it's its itself they them their theirs themselves what which who whom this
that that'll these those am is are was were be been being have has had having do does did doing a an the and but
if or because as until while of at by for with about against between into through during before after above
below to from up down in out on off over under again further then once here there when where why how all any
both each few more most other some such no nor not only own same so than too very s t can will just don don't
should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn
hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn
wasn't weren weren't won won't wouldn wouldn't
""".split())

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})


def words(text: str) -> Iterator[str]:
    """Every word of `text`, lowercased, in order (stopwords included)."""
    for match in _WORD.finditer(text.translate(_APOSTROPHES).lower()):
        word = match.group()
        yield word[:-2] if word.endswith("'s") else word


def content_words(text: str) -> Iterator[str]:
    """The words of `text` that are not English stopwords, in order, with repeats."""
    return (word for word in words(text) if word not in ENGLISH_STOPWORDS)

