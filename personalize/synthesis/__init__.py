"""Stage 4 of the paper: synthesis of key elements (keywords) from the user's past documents (SynCtxInd, SynCtx)."""
