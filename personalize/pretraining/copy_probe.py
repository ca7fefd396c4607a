"""The copy probe: how exactly a model regenerates a held-out passage that it is given as its input.

The generator must copy x_t and phrases from past passages; a starting point that cannot reproduce its own input
will not learn to. The probe feeds each held-out training-user passage (cut to `probe_tokens` pieces, so that an
exact copy fits the decode length) and greedy-decodes it back.
"""

from __future__ import annotations

from typing import Any, Sequence


def copy_probe_scores(*, target_ids: Sequence[Sequence[int]], predicted_ids: Sequence[Sequence[int]],
                      target_texts: Sequence[str], predicted_texts: Sequence[str]) -> dict[str, float]:
    """Exact-match share (token ids), token accuracy (target positions whose token the prediction repeats at the
    same position, over all target tokens) and ROUGE-L F1 (x100, the project's scorer) of greedy copies."""
    from personalize.metrics.text_metrics import rouge

    if not (len(target_ids) == len(predicted_ids) == len(target_texts) == len(predicted_texts)) or not target_ids:
        raise ValueError("copy_probe_scores needs the same non-zero number of targets and predictions, got "
                         f"{len(target_ids)}, {len(predicted_ids)}, {len(target_texts)}, {len(predicted_texts)}")
    exact = sum(list(t) == list(p) for t, p in zip(target_ids, predicted_ids))
    matched = sum(sum(a == b for a, b in zip(t, p)) for t, p in zip(target_ids, predicted_ids))
    total = sum(len(t) for t in target_ids)
    return {"examples": len(target_ids), "exact_match": exact / len(target_ids),
            "token_accuracy": matched / max(total, 1),
            "rougeL": rouge(list(target_texts), list(predicted_texts))["rougeL"],
            "mean_target_tokens": total / len(target_ids),
            "mean_predicted_tokens": sum(len(p) for p in predicted_ids) / len(predicted_ids)}


def probe_passages(*, texts: Sequence[str], encode, probe_tokens: int) -> list[list[int]]:
    """Each passage's first `probe_tokens` token ids (non-empty passages only)."""
    return [ids[:probe_tokens] for ids in (list(encode(t)) for t in texts) if ids]


def run_copy_probe(*, model: Any, params: Any, vocabulary: Any, texts: Sequence[str], probe_tokens: int,
                   batch_size: int = 16, prefix: str = "") -> dict[str, Any]:
    """Greedy-decodes every passage from itself (after `prefix`, the denoising objective's, so that the model is
    asked for the copy it was trained to make); returns the scores and a few (target, prediction) samples."""
    import numpy as np

    from personalize.decoding.generate import generate

    passages = probe_passages(texts=texts, encode=vocabulary.encode, probe_tokens=probe_tokens)
    prefix_ids = list(vocabulary.encode(prefix)) if prefix else []
    length = probe_tokens + 1  # EOS
    predicted: list[list[int]] = []
    for start in range(0, len(passages), batch_size):
        chunk = passages[start:start + batch_size]
        inputs = np.zeros((batch_size, len(prefix_ids) + length), np.int32)
        for row, ids in enumerate(chunk):
            inputs[row, :len(prefix_ids) + len(ids) + 1] = prefix_ids + ids + [1]
        sequences = np.asarray(generate(model=model, params=params, encoder_input_tokens=inputs,
                                        max_decode_length=length, method="greedy").sequences)[:, 0]
        for tokens in sequences[:len(chunk)]:
            ids = [int(t) for t in tokens if t != 0]
            predicted.append(ids[:ids.index(1)] if 1 in ids else ids)
    target_texts = [vocabulary.decode(ids) for ids in passages]
    predicted_texts = [vocabulary.decode(ids) for ids in predicted]
    scores = copy_probe_scores(target_ids=passages, predicted_ids=predicted, target_texts=target_texts,
                               predicted_texts=predicted_texts)
    samples = [{"target": t, "prediction": p} for t, p in zip(target_texts[:3], predicted_texts[:3])]
    return {"scores": scores, "samples": samples}
