"""Synonyms for the SynCtx weak labels: Princeton WordNet 3.0 read with NLTK, or any in-memory table.

WordNet is read from a configurable directory of the database files (data.noun, index.noun, ..., *.exc): Debian's
`wordnet-base` installs them in /usr/share/wordnet, NLTK's own data has them in nltk_data/corpora/wordnet. Nothing
is downloaded. Debian's copy lacks the `lexnames` file NLTK's reader insists on; it is a fixed list (lexnames(5WN)),
so for such a directory a reader folder is assembled once in `work_dir`: a copy of the database files (NLTK refuses
links out of its root; about 28 MB) plus that list. NLTK 3.10+ only opens files under its data paths, so the folder read is appended to `nltk.data.path` when
the reader is made (at use, never at import).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import sys
import tempfile
from typing import Mapping, Protocol

# Where the WordNet 3.0 database is looked for, in order: $PERSONALIZE_WORDNET_DIR, the copy `run.sh` unpacks into
# the virtual environment (Debian's wordnet-base, when the system has none), Debian's own place, NLTK's data folder.
WORDNET_ENV = "PERSONALIZE_WORDNET_DIR"
_DATABASE_FILES = tuple(f"{kind}.{pos}" for kind in ("data", "index") for pos in ("noun", "verb", "adj", "adv")) + (
    "noun.exc", "verb.exc", "adj.exc", "adv.exc")
# lexnames(5WN) of WordNet 3.0: number, lexicographer file, syntactic category (1 noun, 2 verb, 3 adj, 4 adv).
_LEXNAMES = (
    "adj.all 3", "adj.pert 3", "adv.all 4", "noun.Tops 1", "noun.act 1", "noun.animal 1", "noun.artifact 1",
    "noun.attribute 1", "noun.body 1", "noun.cognition 1", "noun.communication 1", "noun.event 1", "noun.feeling 1",
    "noun.food 1", "noun.group 1", "noun.location 1", "noun.motive 1", "noun.object 1", "noun.person 1",
    "noun.phenomenon 1", "noun.plant 1", "noun.possession 1", "noun.process 1", "noun.quantity 1",
    "noun.relation 1", "noun.shape 1", "noun.state 1", "noun.substance 1", "noun.time 1", "verb.body 2",
    "verb.change 2", "verb.cognition 2", "verb.communication 2", "verb.competition 2", "verb.consumption 2",
    "verb.contact 2", "verb.creation 2", "verb.emotion 2", "verb.motion 2", "verb.perception 2",
    "verb.possession 2", "verb.social 2", "verb.stative 2", "verb.weather 2", "adj.ppl 3",
)


class SynonymSource(Protocol):
    def synonyms(self, word: str) -> frozenset[str]:
        """Single-word synonyms of `word` (lowercase); may include `word` itself."""
        ...


@dataclasses.dataclass(frozen=True)
class SynonymTable:
    """Synonym sets given in memory; the relation is made symmetric."""

    table: Mapping[str, frozenset[str]]

    @classmethod
    def from_groups(cls, groups: list[list[str]]) -> "SynonymTable":
        table: dict[str, set[str]] = {}
        for group in groups:
            for word in group:
                table.setdefault(word, set()).update(w for w in group if w != word)
        return cls(table={word: frozenset(others) for word, others in table.items()})

    def synonyms(self, word: str) -> frozenset[str]:
        return self.table.get(word, frozenset())


def missing_wordnet_files(directory: str) -> list[str]:
    """The WordNet 3.0 database files that `directory` lacks (all of them when it does not exist)."""
    return [name for name in _DATABASE_FILES if not os.path.exists(os.path.join(directory, name))]


def has_wordnet(directory: str) -> bool:
    return not missing_wordnet_files(directory)


def wordnet_candidates() -> list[str]:
    """The folders searched for WordNet, in order (an explicit $PERSONALIZE_WORDNET_DIR is the only one then)."""
    if os.environ.get(WORDNET_ENV):
        return [os.environ[WORDNET_ENV]]
    return [os.path.join(sys.prefix, "share", "wordnet"), "/usr/share/wordnet",
            os.path.expanduser("~/nltk_data/corpora/wordnet")]


def default_wordnet_dir() -> str:
    """The first candidate that holds the database, else the first candidate (so an error names where to put it)."""
    candidates = wordnet_candidates()
    return next((c for c in candidates if has_wordnet(c)), candidates[0])


DEFAULT_WORDNET_DIR = default_wordnet_dir()


def _reader_root(*, directory: str, work_dir: str | None) -> str:
    """`directory` itself when NLTK can read it; otherwise a folder with a copy of it plus the lexnames list."""
    if os.path.exists(os.path.join(directory, "lexnames")):
        return directory
    root = os.path.join(work_dir or tempfile.gettempdir(), "personalize-wordnet-" +
                        os.path.abspath(directory).strip(os.sep).replace(os.sep, "_"))
    os.makedirs(root, exist_ok=True)
    for name in _DATABASE_FILES:
        copy = os.path.join(root, name)
        if not os.path.exists(copy):
            shutil.copyfile(os.path.join(directory, name), f"{copy}.tmp-{os.getpid()}")
            os.replace(f"{copy}.tmp-{os.getpid()}", copy)
    lexnames = os.path.join(root, "lexnames")
    if not os.path.exists(lexnames):
        with open(f"{lexnames}.tmp-{os.getpid()}", "w", encoding="utf-8") as handle:
            for number, entry in enumerate(_LEXNAMES):
                name, category = entry.split()
                handle.write(f"{number:02d}\t{name}\t{category}\n")
        os.replace(f"{lexnames}.tmp-{os.getpid()}", lexnames)
    return root


def open_english_wordnet(*, directory: str, work_dir: str | None = None):
    """NLTK's English WordNet reader over a WordNet 3.0 database folder (Debian's or nltk_data's), built once."""
    import nltk

    root = _reader_root(directory=directory, work_dir=work_dir)
    if root not in nltk.data.path:
        nltk.data.path.append(root)  # NLTK opens corpus files only under its data paths
    return _english_reader(root)


@functools.lru_cache(maxsize=4)
def _english_reader(root: str):
    """NLTK's WordNet reader without the multilingual (OMW) set-up.

    Given any root, NLTK 3.10's reader maps its synsets to those of NLTK's own downloaded "wordnet" corpus at
    construction (for OMW lookups), which fails when that corpus was never downloaded; only English lemmas are
    used here, so that mapping is skipped.
    """
    import warnings

    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class EnglishWordNetReader(WordNetCorpusReader):
        def map_wn(self, version="wordnet"):
            return None

    with warnings.catch_warnings():  # "multilingual functions are not available": only English is used
        warnings.simplefilter("ignore", UserWarning)
        return EnglishWordNetReader(root, None)


class WordNetSynonyms:
    """Synonyms from WordNet: the single-word lemmas of every synset of the word (any part of speech).

    NLTK's reader maps inflected forms to their base first (morphy: "running" -> "run"), so inflections find the
    synsets of their lemma.
    """

    def __init__(self, *, directory: str = DEFAULT_WORDNET_DIR, work_dir: str | None = None):
        missing = missing_wordnet_files(directory)
        if missing:
            raise FileNotFoundError(
                f"{directory}: not a WordNet 3.0 database (missing {', '.join(missing)}); `bash run.sh` unpacks "
                f"Debian's wordnet-base into the virtual environment, or install it, or set ${WORDNET_ENV} (or "
                "directory=) to a WordNet folder such as nltk_data/corpora/wordnet")
        self._reader = open_english_wordnet(directory=directory, work_dir=work_dir)
        self.directory = directory

    @functools.lru_cache(maxsize=1 << 16)
    def synonyms(self, word: str) -> frozenset[str]:
        return frozenset(
            lemma.name().lower()
            for synset in self._reader.synsets(word)
            for lemma in synset.lemmas()
            if "_" not in lemma.name() and "-" not in lemma.name()
        )
