"""Stage 3 of the paper: summarization of the ranked entries (SumCtxInd, SumCtx)."""
