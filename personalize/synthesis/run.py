"""The synthesis stages at dataset scale, configured by gin (gin/synthesis/*.gin):

  python -m personalize.synthesis.run --stage=SynCtxInd --output_dir=O --gin_file=synthesis/synctxind.gin \
      --gin.run.write_synctxind.prepared_dir="'P'" --gin.run.write_synctxind.ranked_dir="'R'"
  python -m personalize.synthesis.run --stage=SynCtx --output_dir=O --gin_file=synthesis/synctx.gin ...

SynCtxInd writes its addition directly; SynCtx writes the synthesizer's seq2seq examples, and SynCtxModel trains the
synthesizer on them, decodes the `apply-*` files and writes the addition
(`personalize.stage_models.train_apply.train_and_apply`, variant bound in gin). The document
frequencies (training users' documents) and the operative gin config are written beside the output.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Sequence

from personalize import gin_config
from personalize.pipeline.ranked import RankedDataset
from personalize.preparation.dataset import PreparedDataset
from personalize.stage_models.train_apply import train_and_apply
from personalize.synthesis.context_dependent import write_synctx_examples
from personalize.synthesis.idf import (DocumentFrequencies, check_idf_base, training_user_frequencies,
                                       write_frequencies)
from personalize.synthesis.keywords_independent import write_independent_keywords_addition
from personalize.synthesis.synonyms import DEFAULT_WORDNET_DIR, WordNetSynonyms
from personalize.synthesis.weak_labels import WordMatcher
from personalize.synthesis.word_vectors import MINILM_MAX_DISTANCE, load_minilm_word_vectors

FREQUENCIES_FILE = "document_frequencies.json"


def _frequencies(*, prepared_dir: str, output_dir: str) -> DocumentFrequencies:
    frequencies = training_user_frequencies(dataset=PreparedDataset(prepared_dir))
    os.makedirs(output_dir, exist_ok=True)
    write_frequencies(path=os.path.join(output_dir, FREQUENCIES_FILE), frequencies=frequencies)
    return frequencies


def write_synctxind(*, prepared_dir: str, ranked_dir: str, output_dir: str, max_keywords: int = 20,
                    min_idf: float = 1.5, idf_base: str = "e") -> dict[str, Any]:
    """The SynCtxInd addition, sharded like the ranked dataset; `idf_base` names the IDF's logarithm (idf.py)."""
    check_idf_base(idf_base)
    frequencies = _frequencies(prepared_dir=prepared_dir, output_dir=output_dir)
    return write_independent_keywords_addition(
        prepared_dir=prepared_dir, output_dir=output_dir, frequencies=frequencies,
        num_shards=int(RankedDataset(ranked_dir).manifest["num_shards"]), max_keywords=max_keywords, min_idf=min_idf,
        idf_base=idf_base)


def write_synctx_training_examples(
    *,
    prepared_dir: str,
    ranked_dir: str,
    output_dir: str,
    strategy: str = "RankDocBySnpt",
    wordnet_dir: str | None = DEFAULT_WORDNET_DIR,
    word_vectors_path: str | None = None,
    use_word_vectors: bool = True,
    max_distance: float = MINILM_MAX_DISTANCE,
    min_idf: float = 1.5,
    idf_base: str = "e",
    max_keywords: int = 20,
    seed: int = 0,
    by: str = "user",
) -> dict[str, Any]:
    """The SynCtx examples directory. wordnet_dir=None matches without synonyms; word_vectors_path=None is MiniLM."""
    check_idf_base(idf_base)
    matcher = WordMatcher(
        synonyms=WordNetSynonyms(directory=wordnet_dir) if wordnet_dir else None,
        vectors=load_minilm_word_vectors(path=word_vectors_path) if use_word_vectors else None,
        max_distance=max_distance)
    return write_synctx_examples(
        ranked_dir=ranked_dir, output_dir=output_dir,
        frequencies=_frequencies(prepared_dir=prepared_dir, output_dir=output_dir), matcher=matcher,
        strategy=strategy, min_idf=min_idf, idf_base=idf_base, max_keywords=max_keywords, seed=seed, by=by)


STAGES = {"SynCtxInd": write_synctxind, "SynCtx": write_synctx_training_examples, "SynCtxModel": train_and_apply}


def main(argv: Sequence[str] | None = None) -> int:
    return gin_config.run_stage_command(stages=STAGES, argv=sys.argv[1:] if argv is None else argv,
                                        description="Write a synthesis stage's output (SynCtxInd or SynCtx) or train and apply its model.")


if __name__ == "__main__":
    sys.exit(main())
