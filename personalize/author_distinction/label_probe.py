"""Does the multitask (+AuthorPred) generator answer a generation prompt with the author task's label?

The +AuthorPred model learns two tasks with one decoder: continuing a passage, and answering "true" / "false".
Beam search ranks a whole continuation and a two-piece label on the same footing (log-likelihood over T5X's brevity
penalty), so a model that gives a label even a small probability under the generation instruction can answer the
generation prompt with it. This probe scores, on the row's test inputs, each label and the prediction the beam
returned, and reports how often a label would outrank it: the evidence behind a collapse, or its absence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from personalize.author_distinction.pairs import LABELS
from personalize.decoding.score import penalised, sequence_log_likelihoods, with_eos


def label_probe(*, inputs: Sequence[Sequence[int]], predictions: Sequence[str], vocabulary: Any, model: Any,
                params: Any, inputs_length: int, targets_length: int, alpha: float,
                batch_size: int = 16) -> dict[str, Any]:
    """Scores of both labels and of each decoded prediction (re-encoded, EOS added) under the same inputs.

    `inputs`: the generation task's encoded test inputs, in the order of `predictions`.
    """
    if len(inputs) != len(predictions):
        raise ValueError(f"{len(inputs)} inputs but {len(predictions)} predictions")
    score = dict(model=model, params=params, inputs=inputs, inputs_length=inputs_length,
                 targets_length=targets_length, batch_size=batch_size)
    labels: dict[str, Any] = {}
    label_ranked = []
    for text in sorted(LABELS.values()):
        ids = list(vocabulary.encode(text))
        pieces = len(with_eos(ids, length=targets_length))
        log_likelihood = sequence_log_likelihoods(targets=[ids] * len(inputs), **score)
        label_ranked.append(penalised(log_likelihood=log_likelihood, pieces=np.full(len(inputs), pieces),
                                      alpha=alpha))
        # Beam search keeps 2 x beams candidates at its first step: a label whose first piece is not among them
        # never competes, however well the whole label would score.
        first_piece = sequence_log_likelihoods(targets=[ids] * len(inputs), **(score | {"targets_length": 1}))
        labels[text] = {"pieces": pieces, "mean_log_likelihood": _mean(log_likelihood),
                        "max_log_likelihood": float(np.max(log_likelihood)) if len(inputs) else None,
                        "first_piece_mean_log_likelihood": _mean(first_piece)}
    predicted = [list(vocabulary.encode(text)) for text in predictions]
    predicted_pieces = np.array([len(with_eos(ids, length=targets_length)) for ids in predicted])
    predicted_log_likelihood = sequence_log_likelihoods(targets=predicted, **score)
    prediction_ranked = penalised(log_likelihood=predicted_log_likelihood, pieces=predicted_pieces, alpha=alpha)
    best_label = np.max(np.stack(label_ranked), axis=0) if label_ranked and len(inputs) else np.zeros(0)
    is_label = [text.strip() in LABELS.values() for text in predictions]
    return {
        "examples": len(inputs),
        "alpha": alpha,
        "labels": labels,
        "predictions": {"mean_log_likelihood": _mean(predicted_log_likelihood),
                        "mean_pieces": _mean(predicted_pieces)},
        # A label's penalised score at least the prediction's: the beam returns the label if it keeps it (or did).
        "label_outranks_prediction": _mean(best_label >= prediction_ranked),
        "predictions_that_are_labels": _mean(np.array(is_label, np.float64)),
    }


def _mean(values: np.ndarray) -> float | None:
    values = np.asarray(values, np.float64)
    return float(values.mean()) if values.size else None


def describe(probe: Mapping[str, Any]) -> str:
    """One console line."""
    if not probe["examples"]:
        return "label probe: no test inputs"
    labels = ", ".join(f"'{text}' {entry['mean_log_likelihood']:.2f} (max {entry['max_log_likelihood']:.2f})"
                       for text, entry in probe["labels"].items())
    return (f"label probe on {probe['examples']} test inputs: mean log p(label | generation input) {labels}; "
            f"the predictions' {probe['predictions']['mean_log_likelihood']:.2f} over "
            f"{probe['predictions']['mean_pieces']:.0f} pieces; a label would outrank the beam's prediction on "
            f"{100 * probe['label_outranks_prediction']:.0f}% (if the beam kept its first piece), and "
            f"{100 * probe['predictions_that_are_labels']:.0f}% of the predictions are a label")
