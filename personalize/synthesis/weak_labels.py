"""SynCtx weak labels: the words of the ranked entries that the real document d_t also uses.

The paper: a word of the ranked entries is selected when it matches a word of d_t — the same word, a WordNet
synonym, or a GloVe neighbour (Euclidean distance < 4); stopwords and words with IDF < 1.5 are skipped; the
selected words are sorted by how often they were selected, then by IDF. Here:
- both sides are the content words of `words.py` (stopwords removed on both sides); the IDF floor applies to the
  selected (ranked-entry) words;
- "how often selected" = the number of word occurrences of d_t a ranked-entry word matches (each occurrence of d_t
  selects every ranked-entry word it matches once);
- ties after IDF are broken by the word; at most `max_keywords` (20, as SynCtxInd) are kept;
- word vectors are the MiniLM input embeddings with distance < 1.0 in place of GloVe < 4 (see word_vectors.py).
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from personalize.synthesis.idf import DocumentFrequencies
from personalize.synthesis.synonyms import SynonymSource
from personalize.synthesis.word_vectors import MINILM_MAX_DISTANCE, WordVectors
from personalize.synthesis.words import content_words


@dataclasses.dataclass(frozen=True)
class WordMatcher:
    """When two words count as the same: identity, then synonyms and vector neighbours when given."""

    synonyms: SynonymSource | None = None
    vectors: WordVectors | None = None
    max_distance: float = MINILM_MAX_DISTANCE

    def matches(self, *, candidates: list[str], targets: list[str]) -> dict[str, set[str]]:
        """For each candidate, the target words it matches (candidates matching nothing are left out)."""
        target_set = set(targets)
        matched: dict[str, set[str]] = {}
        for candidate in candidates:
            found = {candidate} & target_set
            if self.synonyms is not None:
                found |= self.synonyms.synonyms(candidate) & target_set
                found |= {t for t in target_set if candidate in self.synonyms.synonyms(t)}
            if found:
                matched[candidate] = found
        if self.vectors is not None:
            for candidate, target in self.vectors.close_pairs(left=candidates, right=sorted(target_set),
                                                              max_distance=self.max_distance):
                matched.setdefault(candidate, set()).add(target)
        return matched


def synthesis_weak_label(
    *,
    ranked_text: str,
    target: str,
    frequencies: DocumentFrequencies,
    matcher: WordMatcher,
    min_idf: float = 1.5,
    max_keywords: int = 20,
    idf_base: str = "e",
) -> list[str]:
    """The keywords a context-dependent synthesizer should produce for one example, most selected first."""
    target_counts = Counter(content_words(target))
    idf: dict[str, float] = {}
    for word in dict.fromkeys(content_words(ranked_text)):
        value = frequencies.idf(word, base=idf_base)
        if value >= min_idf:
            idf[word] = value
    matched = matcher.matches(candidates=list(idf), targets=list(target_counts))
    selected = {word: sum(target_counts[t] for t in targets) for word, targets in matched.items()}
    return sorted(selected, key=lambda word: (-selected[word], -idf[word], word))[:max_keywords]
