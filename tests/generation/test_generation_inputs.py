"""The paper's stage-5 prompt for every experiment row: field order, prefixes, presence and absence."""

import pytest

from personalize.generation.examples import render_example
from personalize.generation.inputs import GenerationInput, generation_input, parse_generation_input
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
EXPECTED_RANKING = {name: name if name.startswith("Rank") or name == "RecentDoc" else "RankDocBySnpt" for name in EXPECTED}


def test_every_row_renders_the_papers_format():
    rows = experiment_rows()
    assert [row.name for row in rows] == list(GENERATION_ROWS)
    for row in rows:
        rendered = render_example(row=row, example=EXAMPLE, summary="S", keywords=["w1", "w2"])
        head, entries = rendered.pop("inputs_head"), rendered.pop("inputs_entries")
        assert rendered == {"inputs": EXPECTED[row.name], "targets": "The whole document.", "example_id": "e1",
                            "user_id": "alice"}, row.name
        # what trimming by priority works on: the head up to the past passages, then the entries in rank order
        assert head + "".join(entries) == rendered["inputs"], row.name
        assert entries == ([f"<{EXPECTED_RANKING[row.name]}>"] if "past passages:" in rendered["inputs"] else [])


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


@pytest.mark.parametrize("fields", [
    {"immediate_context": "Hello\nThe start"},
    {"immediate_context": "Hi", "user_id": "alice smith"},
    {"immediate_context": "Hi", "past_passages": "one. two summary: not a field\nthree"},
    {"immediate_context": "Hi", "summary": "S", "keywords": ("w1", "w 2"), "past_passages": "P"},
    {"immediate_context": "", "summary": "", "keywords": (), "past_passages": ""},
    {"immediate_context": "trailing space ", "keywords": ("only",)},
])
def test_parse_round_trips_the_rendering(fields):
    parsed = parse_generation_input(generation_input(**fields))
    assert parsed == GenerationInput(**fields)


def test_parse_reads_every_rows_rendering():
    for name, text in EXPECTED.items():
        parsed = parse_generation_input(text)
        assert parsed.immediate_context == "Hello\nThe start", name
        assert parsed.past_passages == (None if name in ("ImmedCtx", "UserID") else f"<{EXPECTED_RANKING[name]}>"), name
        assert parsed.user_id == ("alice" if name == "UserID" else None), name


def test_parse_cuts_a_field_at_a_later_prefix_it_contains():
    parsed = parse_generation_input(generation_input(immediate_context="a past passages: b", past_passages="P"))
    assert (parsed.immediate_context, parsed.past_passages) == ("a", "b past passages: P")


def test_parse_rejects_text_that_is_not_a_generation_input():
    with pytest.raises(ValueError, match="does not start with"):
        parse_generation_input("passage start: x")
    with pytest.raises(ValueError, match="without 'passage start: '"):
        parse_generation_input(f"{I} summary: x")
