"""Network definitions (T5) used by the generation, summarization, synthesis and author-prediction models."""
