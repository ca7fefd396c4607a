"""The models of stages 3-4 (SumCtxInd, SumCtx, SynCtx): train a seq2seq model on an examples directory, decode
its apply files and write the stage addition. Summaries and keywords share this code; they differ only in the
addition's field (see personalize.pipeline.additions.VARIANT_FIELDS)."""
