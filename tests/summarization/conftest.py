"""Fixtures of the summarization tests."""

import pytest

from ranked_fixtures import ranked_record, write_ranked


@pytest.fixture
def ranked_dir(tmp_path):
    """12 training users (one example each, one past document), 2 validation and 2 test examples."""
    records = {
        split: [ranked_record(example_id=f"{split}-{i}", user_id=f"{split}-user-{i}", split=split,
                              past={f"{split}-{i}-past": f"Past entry {i} about gardens. Another past sentence {i}."},
                              target=f"Gardens again {i}. More text {i}.") for i in range(count)]
        for split, count in (("train", 12), ("validation", 2), ("test", 2))
    }
    return write_ranked(tmp_path / "ranked", records)
