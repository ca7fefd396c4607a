import pytest

from personalize.ranking import CONTEXT_MAX_CHARS, join_entries, rank_example, RankingQuery, make_strategy
from personalize.corpus.document import Document


def test_join_entries_truncates_to_the_budget():
    assert join_entries(texts=["abc", "defg"], max_chars=100) == ("abc\ndefg", 2)
    assert join_entries(texts=["abc", "defg"], max_chars=6) == ("abc\nde", 2)
    assert join_entries(texts=["abc", "defg"], max_chars=4) == ("abc", 1)  # no dangling separator
    assert join_entries(texts=["abc", "defg"], max_chars=2) == ("ab", 1)
    assert join_entries(texts=["abc", "defg"], max_chars=7, separator=" | ") == ("abc | d", 2)
    assert join_entries(texts=[], max_chars=10) == ("", 0)
    with pytest.raises(ValueError):
        join_entries(texts=["a"], max_chars=-1)


def test_rank_example_keeps_only_entries_in_the_context():
    assert CONTEXT_MAX_CHARS == 2500
    documents = [Document(user_id="u", doc_id=f"d{i}", timestamp=float(i), body=str(i) * 1000) for i in range(5)]
    query = RankingQuery(query_id="q", user_id="u", timestamp=10.0, text="x")
    ranking = rank_example(strategy=make_strategy("RecentDoc"), query=query, candidates=documents)
    assert len(ranking.context) == 2500
    assert ranking.context == "4" * 1000 + "\n" + "3" * 1000 + "\n" + "2" * 498
    assert ranking.entry_ids == ("d4", "d3", "d2")
    assert ranking.texts[2] == "2" * 1000  # entries keep their full text
    assert ranking.num_candidates == 5
    short = rank_example(strategy=make_strategy("RecentDoc"), query=query, candidates=documents, max_chars=1500, separator="\n\n")
    assert short.context == "4" * 1000 + "\n\n" + "3" * 498
    assert ranking.to_json()["entry_ids"] == ["d4", "d3", "d2"]
