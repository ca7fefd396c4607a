"""The Porter stemmer exactly as Lucene's `PorterStemFilter` applies it (Pyserini's default English stemmer).

This is Porter's 1980 algorithm with the two departures of Porter's own reference implementation that
Lucene keeps ("bli" -> "ble" instead of "abli" -> "able", and "logi" -> "log"), and Lucene's rule that
words of one or two characters are never stemmed. Letters other than a, e, i, o, u (and y after a
vowel) count as consonants, whatever the alphabet, as in Lucene. Written from the published algorithm;
checked token by token against Lucene (tests/retrieval/test_bm25_lucene.py).
"""

from __future__ import annotations

_VOWELS = frozenset("aeiou")

# Step 2 and step 3 rules: (suffix, replacement), keyed by the character that selects the group
# (the penultimate letter for step 2, the last letter for step 3), tried in order; the first suffix
# that matches ends the step whether or not the measure allows the replacement.
_STEP2 = {
    "a": (("ational", "ate"), ("tional", "tion")),
    "c": (("enci", "ence"), ("anci", "ance")),
    "e": (("izer", "ize"),),
    "l": (("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous")),
    "o": (("ization", "ize"), ("ation", "ate"), ("ator", "ate")),
    "s": (("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous")),
    "t": (("aliti", "al"), ("iviti", "ive"), ("biliti", "ble")),
    "g": (("logi", "log"),),
}
_STEP3 = {
    "e": (("icate", "ic"), ("ative", ""), ("alize", "al")),
    "i": (("iciti", "ic"),),
    "l": (("ical", "ic"), ("ful", "")),
    "s": (("ness", ""),),
}
# Step 4 suffixes removed when the measure of the stem before them is > 1, keyed by the penultimate letter.
_STEP4 = {
    "a": ("al",),
    "c": ("ance", "ence"),
    "e": ("er",),
    "i": ("ic",),
    "l": ("able", "ible"),
    "n": ("ant", "ement", "ment", "ent"),
    "o": ("ion", "ou"),
    "s": ("ism",),
    "t": ("ate", "iti"),
    "u": ("ous",),
    "v": ("ive",),
    "z": ("ize",),
}


class _Word:
    """The working buffer: `b[0..k]` is the current word, `j` the end of the stem after a suffix match."""

    def __init__(self, word: str):
        self.b = list(word)
        self.k = len(word) - 1
        self.j = 0

    def cons(self, i: int) -> bool:
        ch = self.b[i]
        if ch in _VOWELS:
            return False
        if ch == "y":
            return i == 0 or not self.cons(i - 1)
        return True

    def m(self) -> int:
        """The number of vowel-consonant sequences in b[0..j]."""
        n = 0
        i = 0
        j = self.j
        while i <= j and self.cons(i):
            i += 1
        while True:
            while i <= j and not self.cons(i):
                i += 1
            if i > j:
                return n
            n += 1
            while i <= j and self.cons(i):
                i += 1
            if i > j:
                return n

    def vowel_in_stem(self) -> bool:
        return any(not self.cons(i) for i in range(self.j + 1))

    def double_consonant(self, i: int) -> bool:
        return i >= 1 and self.b[i] == self.b[i - 1] and self.cons(i)

    def cvc(self, i: int) -> bool:
        """b[i-2..i] is consonant-vowel-consonant and b[i] is not w, x or y."""
        if i < 2 or not self.cons(i) or self.cons(i - 1) or not self.cons(i - 2):
            return False
        return self.b[i] not in "wxy"

    def ends(self, suffix: str) -> bool:
        start = self.k - len(suffix) + 1
        if start < 0 or "".join(self.b[start : self.k + 1]) != suffix:
            return False
        self.j = self.k - len(suffix)
        return True

    def set_to(self, text: str) -> None:
        del self.b[self.j + 1 :]
        self.b.extend(text)
        self.k = self.j + len(text)

    def replace_if_measured(self, text: str) -> None:
        if self.m() > 0:
            self.set_to(text)

    def text(self) -> str:
        return "".join(self.b[: self.k + 1])


def _step1ab(w: _Word) -> None:
    """Plurals and -ed / -ing."""
    if w.b[w.k] == "s":
        if w.ends("sses"):
            w.k -= 2
        elif w.ends("ies"):
            w.set_to("i")
        elif w.b[w.k - 1] != "s":
            w.k -= 1
    if w.ends("eed"):
        if w.m() > 0:
            w.k -= 1
    elif (w.ends("ed") or w.ends("ing")) and w.vowel_in_stem():
        w.k = w.j
        if w.ends("at"):
            w.set_to("ate")
        elif w.ends("bl"):
            w.set_to("ble")
        elif w.ends("iz"):
            w.set_to("ize")
        elif w.double_consonant(w.k):
            if w.b[w.k] not in "lsz":
                w.k -= 1
        elif w.m() == 1 and w.cvc(w.k):
            w.set_to("e")


def _step1c(w: _Word) -> None:
    """Terminal y -> i when the stem has another vowel."""
    if w.ends("y") and w.vowel_in_stem():
        w.b[w.k] = "i"


def _step_rules(w: _Word, rules: dict, selector: int) -> None:
    if w.k < selector:
        return
    for suffix, replacement in rules.get(w.b[w.k - selector], ()):
        if w.ends(suffix):
            w.replace_if_measured(replacement)
            return


def _step4(w: _Word) -> None:
    """Removes -ant, -ence, -ment ... when the remaining stem has measure > 1."""
    if w.k == 0:
        return
    for suffix in _STEP4.get(w.b[w.k - 1], ()):
        if w.ends(suffix):
            if suffix == "ion" and not (w.j >= 0 and w.b[w.j] in "st"):
                continue
            break
    else:
        return
    if w.m() > 1:
        w.k = w.j


def _step5(w: _Word) -> None:
    """Removes a final -e and reduces -ll, by measure."""
    w.j = w.k
    if w.b[w.k] == "e":
        measure = w.m()
        if measure > 1 or (measure == 1 and not w.cvc(w.k - 1)):
            w.k -= 1
    if w.b[w.k] == "l" and w.double_consonant(w.k) and w.m() > 1:
        w.k -= 1


def porter_stem(word: str) -> str:
    """Stems a lowercased token; words of up to two characters come back unchanged."""
    if len(word) <= 2:
        return word
    w = _Word(word)
    _step1ab(w)
    _step1c(w)
    _step_rules(w, _STEP2, 1)
    _step_rules(w, _STEP3, 0)
    _step4(w)
    _step5(w)
    return w.text()
