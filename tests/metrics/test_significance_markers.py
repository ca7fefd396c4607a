"""The table's significance markers: `*` beats ImmedCtx, `†` beats RecentDoc (paired t-test, p < 0.01), only when
the row is better, with the reference row as the baseline side of the test."""

import json

from personalize.experiment.results_table import COLUMNS, significance_markers
from personalize.metrics.significance import compare_prediction_files

WORDS = "the user wrote sentence number {i} about the garden and the river near the old mill".split()
TARGETS = [" ".join(WORDS).format(i=i) for i in range(40)]


def _medium(i):
    """About two thirds of the target, the length varying with the example (so differences have variance)."""
    return " ".join(WORDS[: 9 + i % 4]).format(i=i)


PREDICTIONS = {
    "ImmedCtx": [_medium(i) for i in range(40)],
    "RecentDoc": [t.replace("river", "lake") for t in TARGETS],  # one word wrong: better than ImmedCtx
    "Better": [t.replace("garden", "yard") for t in TARGETS],  # as good as RecentDoc, no better
    "Best": [t if i % 3 else t.replace("mill", "barn") for i, t in enumerate(TARGETS)],  # better than both
    "Worse": [f"completely different words {i}" for i in range(40)],  # significantly worse than both
    # ImmedCtx's predictions one word longer or shorter in turn: differences average zero.
    "Same": [" ".join(WORDS[: 9 + i % 4 + (1 if i % 2 else -1)]).format(i=i) for i in range(40)],
}


def _files(tmp_path):
    paths = {}
    for row, predictions in PREDICTIONS.items():
        paths[row] = str(tmp_path / f"{row}.jsonl")
        with open(paths[row], "w", encoding="utf-8") as handle:
            for index, (prediction, target) in enumerate(zip(predictions, TARGETS)):
                handle.write(json.dumps({"example_id": f"e{index:02d}", "prediction": prediction,
                                         "target": target}) + "\n")
    return paths


def test_markers_follow_direction_and_reference(tmp_path):
    paths = _files(tmp_path)
    markers = significance_markers(predictions=paths)
    expected = {"ImmedCtx": "", "RecentDoc": "*", "Better": "*", "Best": "*†", "Worse": "", "Same": ""}
    for row, marker in expected.items():
        assert markers[row] == {column: marker for column in COLUMNS}, row


def test_the_constructed_rows_are_what_their_names_say(tmp_path):
    """The premises of the marker test: Worse is significantly worse (so only the direction check keeps its marker
    off), Same is not significant, Better ties RecentDoc."""
    paths = _files(tmp_path)
    worse = compare_prediction_files(baseline_path=paths["ImmedCtx"], candidate_path=paths["Worse"])
    same = compare_prediction_files(baseline_path=paths["ImmedCtx"], candidate_path=paths["Same"])
    tie = compare_prediction_files(baseline_path=paths["RecentDoc"], candidate_path=paths["Better"])
    for name in ("bleu", "rouge1", "rouge2", "rougeL"):
        assert worse[name]["significant"] and worse[name]["mean_second"] < worse[name]["mean_first"], name
        assert not same[name]["significant"] and same[name]["p"] > 0.1, name
        assert not tie[name]["significant"], name


def test_no_marker_without_the_reference_row(tmp_path):
    paths = _files(tmp_path)
    markers = significance_markers(predictions={row: paths[row] for row in ("RecentDoc", "Best", "Worse")})
    assert markers["Best"] == {column: "†" for column in COLUMNS}
    assert markers["Worse"] == markers["RecentDoc"] == {column: "" for column in COLUMNS}
