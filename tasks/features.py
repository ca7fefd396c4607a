"""The output features every personalize task shares (T5's: inputs and targets, EOS appended after trimming)."""

from __future__ import annotations


def output_features(vocabulary) -> dict:
    import seqio

    return {
        "inputs": seqio.Feature(vocabulary=vocabulary, add_eos=True, required=False),
        "targets": seqio.Feature(vocabulary=vocabulary, add_eos=True),
    }


def preprocessors() -> list:
    """Text pairs come formatted from the source; tokenize, the cache point, then EOS after trimming."""
    import seqio

    return [seqio.preprocessors.tokenize, seqio.CacheDatasetPlaceholder(), seqio.preprocessors.append_eos_after_trim]
