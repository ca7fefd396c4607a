"""The paper's stage-5 prompt for every experiment row: field order, prefixes, presence and absence."""

import pytest

from personalize.generation.examples import render_example
from personalize.generation.inputs import generation_input
from personalize.generation.rows import GENERATION_ROWS, experiment_rows, row_slug

EXAMPLE = {
    "example_id": "e1", "user_id": "alice", "immediate_context": "Hello\nThe start",
    "target": "The whole document.",
    "contexts": {s: {"entry_ids": ["d1"], "scores": [1.0], "text": f"<{s}>"}
                 for s in ("RecentDoc", "RankDocBM25", "RankDocDense", "RankSnippet", "RankDocBySnpt")},
}
I = "Finish the passage in the user voice."
EXPECTED = {
    "ImmedCtx": f"{I} passage start: Hello\nThe start",
    "UserID": f"{I} user id: alice passage start: Hello\nThe start",
    "RecentDoc": f"{I} passage start: Hello\nThe start past passages: <RecentDoc>",
    "RankDocBM25": f"{I} passage start: Hello\nThe start past passages: <RankDocBM25>",
    "RankDocDense": f"{I} passage start: Hello\nThe start past passages: <RankDocDense>",
    "RankSnippet": f"{I} passage start: Hello\nThe start past passages: <RankSnippet>",
    "RankDocBySnpt": f"{I} passage start: Hello\nThe start past passages: <RankDocBySnpt>",
    "+SumCtxInd": f"{I} passage start: Hello\nThe start summary: S past passages: <RankDocBySnpt>",
    "+SumCtx": f"{I} passage start: Hello\nThe start summary: S past passages: <RankDocBySnpt>",
    "+SynCtxInd": f"{I} passage start: Hello\nThe start summary: S important words: w1, w2 past passages: <RankDocBySnpt>",
    "+SynCtx": f"{I} passage start: Hello\nThe start summary: S important words: w1, w2 past passages: <RankDocBySnpt>",
}


def test_every_row_renders_the_papers_format():
    rows = experiment_rows()
    assert [row.name for row in rows] == list(GENERATION_ROWS)
    for row in rows:
        rendered = render_example(row=row, example=EXAMPLE, summary="S", keywords=["w1", "w2"])
        assert rendered == {"inputs": EXPECTED[row.name], "targets": "The whole document.", "example_id": "e1",
                            "user_id": "alice"}, row.name


def test_base_ranking_and_summary_are_configurable():
    rows = {row.name: row for row in experiment_rows(base_ranking="RankDocBM25", base_summary="SumCtxInd")}
    assert (rows["+SumCtx"].ranking, rows["+SumCtx"].summary) == ("RankDocBM25", "SumCtx")
    assert (rows["+SynCtx"].ranking, rows["+SynCtx"].summary, rows["+SynCtx"].keywords) == ("RankDocBM25", "SumCtxInd", "SynCtx")
    with pytest.raises(ValueError, match="base_ranking"):
        experiment_rows(base_ranking="Random")
    with pytest.raises(ValueError, match="base_summary"):
        experiment_rows(base_summary="SynCtx")


def test_empty_fields_are_kept_and_absent_fields_left_out():
    assert generation_input(immediate_context="x", keywords=[]) == f"{I} passage start: x important words: "
    assert generation_input(immediate_context="x", summary="") == f"{I} passage start: x summary: "


def test_missing_context_names_the_example():
    row = next(r for r in experiment_rows() if r.name == "RankSnippet")
    with pytest.raises(ValueError, match="'e2' has no 'RankSnippet'"):
        render_example(row=row, example={**EXAMPLE, "example_id": "e2", "contexts": {}})


def test_row_slugs():
    assert [row_slug(name) for name in ("+SumCtx", "RankDocBySnpt", "+AuthorPred")] == ["sumctx", "rankdocbysnpt", "authorpred"]
