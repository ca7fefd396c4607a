"""A row's artifact key names only the stage outputs its prompt uses: running three rows first and every row later
reuses the three, and a new summarizer does not retrain the rows without summaries."""

from personalize.experiment.runner import row_additions

ALL = {"SumCtx": "s", "SumCtxInd": "i", "SynCtx": "k", "SynCtxInd": "ki"}


def used(row, additions=ALL, multitask_row="+SynCtx"):
    return row_additions(row=row, additions=additions, base_summary="SumCtx", multitask_row=multitask_row)


def test_rows_without_additions_do_not_depend_on_the_stages_run():
    for row in ("ImmedCtx", "UserID", "RecentDoc", "RankDocBySnpt", "ZeroShot"):
        assert used(row) == [] and used(row, additions={}) == []


def test_summary_and_keyword_rows_name_what_their_prompt_holds():
    assert used("+SumCtx") == ["SumCtx"]
    assert used("+SumCtxInd") == ["SumCtxInd"]
    assert used("+SynCtx") == ["SumCtx", "SynCtx"]
    assert used("+SynCtxInd") == ["SumCtx", "SynCtxInd"]


def test_author_prediction_follows_its_multitask_row():
    assert used("+AuthorPred") == ["SumCtx", "SynCtx"]
    assert used("+AuthorPred", multitask_row="RankDocBySnpt") == []
