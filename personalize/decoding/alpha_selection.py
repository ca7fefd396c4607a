"""The beam search's length penalty alpha, chosen on validation.

T5X decodes with alpha 0.6 (brevity_penalty ((5 + length) / 6) ** alpha). A small model trained on little text puts
much probability on EOS early, and with 0.6 its beam search prefers a short hypothesis (on Amazon reviews the tiny
model's predictions were 0.15x-0.32x of the targets' length). The paper does not state alpha, so, as any decoding
hyperparameter, it is chosen on the validation split: every candidate decodes the same validation examples and the
highest ROUGE-L (the paper's metrics; ties go to the smaller alpha, T5X's side) wins. The test split is never seen.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

from personalize.metrics.generation_checks import mean_length
from personalize.metrics.significance import read_predictions
from personalize.metrics.text_metrics import rouge


def validation_file(directory: str, alpha: float) -> str:
    return os.path.join(directory, f"predictions-validation-alpha{alpha:g}.jsonl")


def score_candidate(path: str) -> dict[str, float]:
    """ROUGE-1/L (%) and the length ratio (predicted / target characters) of one candidate's validation file."""
    records = read_predictions(path)
    ids = sorted(records)
    targets = [records[i]["target"] for i in ids]
    predictions = [records[i]["prediction"] for i in ids]
    scores = rouge(targets, predictions)
    target_length = mean_length(targets)
    return {"rouge1": scores["rouge1"], "rougeL": scores["rougeL"], "examples": float(len(ids)),
            "length_ratio": mean_length(predictions) / target_length if target_length else float("nan")}


def best_alpha(sweep: Sequence[dict]) -> float:
    """The candidate with the highest validation ROUGE-L; on a tie, the smaller alpha."""
    if not sweep:
        raise ValueError("no alpha candidate was decoded")
    return float(max(sweep, key=lambda entry: (entry["rougeL"], -entry["alpha"]))["alpha"])


def select_alpha(*, candidates: Sequence[float], decode_validation: Callable[[float, str], None],
                 directory: str, log: Callable[[str], None] = lambda line: None) -> dict:
    """Decodes the validation examples with every candidate (`decode_validation(alpha, output_path)`) and returns
    {"alpha": chosen, "sweep": [{"alpha", "rouge1", "rougeL", "length_ratio", "examples"}, ...]}."""
    if not candidates or any(alpha < 0 for alpha in candidates):
        raise ValueError(f"alpha candidates must be a non-empty list of values >= 0, got {list(candidates)}")
    sweep = []
    for alpha in sorted(set(float(a) for a in candidates)):
        path = validation_file(directory, alpha)
        decode_validation(alpha, path)
        sweep.append({"alpha": alpha, **score_candidate(path)})
        entry = sweep[-1]
        log(f"  alpha {alpha:g} on {int(entry['examples'])} validation examples: ROUGE-1 {entry['rouge1']:.2f}, "
            f"ROUGE-L {entry['rougeL']:.2f}, length {entry['length_ratio']:.2f}x of the targets'")
    return {"alpha": best_alpha(sweep), "sweep": sweep}
