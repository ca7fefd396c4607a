"""LongLaMP: users rebuilt from profiles, de-duplication, synthetic order, splits, and bad input."""

import datetime as dt
import gzip
import hashlib
import json

import pytest

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.loaders.longlamp import load_longlamp

R1 = {"reviewText": "Loved the plot.", "summary": "Great", "overall": 5.0, "description": "A novel"}
R2 = {"reviewText": "Too long.", "summary": "Meh", "overall": 2.0, "description": "An epic"}
FIRST = {"reviewerId": "U1", "input": "Write a 5-star review.", "output": "A classic I reread.", "profile": [R1, R2]}
# LongLaMP's temporal setting: a later record of the same user repeats the earlier items and output.
SECOND = {
    "reviewerId": "U1", "input": "Write a 3-star review.", "output": "It was fine.",
    "profile": [R1, R2, {"reviewText": "A classic I reread.", "summary": "Classic", "overall": 5.0, "description": "x"}],
}
ABSTRACT = {
    "name": "Ada L.", "input": "Generate an abstract for the title \"Engines\".", "output": "We describe engines.",
    "profile": [
        {"abstract": "Notes on numbers.", "id": "p2", "title": "Numbers", "year": 1843},
        {"abstract": "Early notes.", "id": "p1", "title": "Notes", "year": "1840"},
    ],
}
TOPIC = {
    "author": "poster9", "input": "Write a post about cats.", "output": "Cats rule.",
    "profile": [{"author": "poster9", "content": "Dogs drool.", "id": "t1", "summary": "dogs"}],
}


def year(value):
    return dt.datetime(value, 1, 1, tzinfo=dt.timezone.utc).timestamp()


def text_key(text):
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def write_list(path, records, *, compress=False):
    """One record per line inside a JSON list, so record i starts on line i + 2."""
    items = [record if isinstance(record, bytes) else json.dumps(record).encode() for record in records]
    data = b"[\n" + b",\n".join(items) + b"\n]\n"
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def load(paths, *, skip_bad=False, **kwargs):
    report = RecordReport(source="longlamp", skip_bad=skip_bad)
    return list(load_longlamp(paths, report=report, **kwargs)), report


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_product_review_users_are_rebuilt_in_order_without_repeats(tmp_path, compress):
    path = write_list(tmp_path / "product_review_train.json", [FIRST, SECOND], compress=compress)
    docs, report = load(path)
    meta = {"task": "product_review", "split": "train", "synthetic_timestamp": True}
    assert docs == [
        Document(user_id="U1", doc_id=f"U1/{text_key('Loved the plot.')}", timestamp=0.0, body="Loved the plot.",
                 title="Great", metadata={**meta, "role": "profile", "overall": 5.0, "description": "A novel"}),
        Document(user_id="U1", doc_id=f"U1/{text_key('Too long.')}", timestamp=1.0, body="Too long.",
                 title="Meh", metadata={**meta, "role": "profile", "overall": 2.0, "description": "An epic"}),
        Document(user_id="U1", doc_id=f"U1/{text_key('A classic I reread.')}", timestamp=2.0, body="A classic I reread.",
                 title=None, metadata={**meta, "role": "output", "input": "Write a 5-star review."}),
        Document(user_id="U1", doc_id=f"U1/{text_key('It was fine.')}", timestamp=3.0, body="It was fine.",
                 title=None, metadata={**meta, "role": "output", "input": "Write a 3-star review."}),
    ]
    assert (report.read, report.kept) == (2, 4)
    assert dict(report.skipped) == {"longlamp: document repeated across the user's records": 3}


def test_abstract_generation_orders_by_year_then_position(tmp_path):
    path = tmp_path / "abstract_generation_user_val.jsonl"
    path.write_text(json.dumps(ABSTRACT) + "\n")
    docs, _ = load(path)
    assert [(d.doc_id, d.timestamp, d.title, d.metadata["role"], d.metadata["split"]) for d in docs] == [
        ("Ada L./p2", year(1843) + 0, "Numbers", "profile", "dev"),
        ("Ada L./p1", year(1840) + 1, "Notes", "profile", "dev"),
        (f"Ada L./{text_key('We describe engines.')}", year(1843) + 2, None, "output", "dev"),
    ]
    assert docs[0].metadata["year"] == 1843
    assert max(d.timestamp for d in docs[:2]) < docs[2].timestamp


def test_topic_writing_and_task_detection_per_record(tmp_path):
    path = write_list(tmp_path / "mixed.json", [TOPIC, FIRST])
    docs, report = load(path, split="test")
    assert [(d.user_id, d.doc_id, d.metadata["task"], d.timestamp) for d in docs[:2]] == [
        ("poster9", "poster9/t1", "topic_writing", 0.0),
        ("poster9", f"poster9/{text_key('Cats rule.')}", "topic_writing", 1.0),
    ]
    assert docs[0].title == "dogs" and "author" not in docs[0].metadata
    assert {d.metadata["split"] for d in docs} == {"test"}
    assert (report.read, report.kept) == (2, 5)


def test_fixed_task_and_unknown_split_are_checked(tmp_path):
    path = write_list(tmp_path / "data.json", [FIRST])
    with pytest.raises(ValueError, match="pass split="):
        load(path)
    with pytest.raises(ValueError, match="LongLaMP task must be one of"):
        load(path, task="email_completion", split="train")
    with pytest.raises(BadRecordError, match=r"data\.json:2: field 'author': missing"):
        load(path, task="topic_writing", split="train")


def with_item(**changes):
    item = {**ABSTRACT["profile"][0], **changes}
    return {**ABSTRACT, "profile": [{k: v for k, v in item.items() if v is not None}]}


BAD_CASES = {  # name: (record, field, reason, detail)
    "utf8": (b'{"reviewerId": "\xff"}', None, "invalid UTF-8", "at byte 16"),
    "no_user": ({"input": "x", "output": "y", "profile": []}, "reviewerId|name|author", "missing (cannot tell the LongLaMP task)", None),
    "missing": ({k: v for k, v in FIRST.items() if k != "output"}, "output", "missing", None),
    "mistyped": ({**FIRST, "reviewerId": {"id": 1}}, "reviewerId", "expected text, got dict", None),
    "mistyped_profile": ({**FIRST, "profile": "none"}, "profile", "expected a list", "got str"),
    "empty_output": ({**FIRST, "output": ""}, "output", "empty", None),
    "empty_item": (with_item(abstract="  "), "profile[].abstract", "empty", "item 0"),
    "bad_year": (with_item(year="circa 1843"), "profile[].year", "expected a four-digit year", "item 0, 'circa 1843'"),
    "missing_id": (with_item(id=None), "profile[].id", "missing", "item 0"),
}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_record_raises_with_file_line_and_field(tmp_path, case, compress):
    bad, field, reason, detail = BAD_CASES[case]
    path = write_list(tmp_path / "train.json", [TOPIC, bad], compress=compress)
    with pytest.raises(BadRecordError) as caught:
        load(path)
    error = caught.value
    assert (error.path, error.line, error.field, error.reason, error.detail) == (str(path), 3, field, reason, detail)
    assert str(error).startswith(f"{path}:3:")


def test_skip_bad_counts_every_reason(tmp_path):
    path = tmp_path / "train.jsonl.gz"
    lines = [json.dumps(TOPIC).encode(), b"{not json"] + [
        bad if isinstance(bad, bytes) else json.dumps(bad).encode() for bad, *_ in (BAD_CASES[c] for c in sorted(BAD_CASES))
    ]
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    docs, report = load(path, skip_bad=True)
    # The three records with one bad profile item keep their output (one user: repeats are dropped).
    assert [d.doc_id for d in docs] == ["poster9/t1", f"poster9/{text_key('Cats rule.')}", f"Ada L./{text_key('We describe engines.')}"]
    assert (report.read, report.kept, report.total_skipped) == (11, 3, 12)
    assert dict(report.skipped) == {
        "malformed JSON": 1,
        "invalid UTF-8": 1,
        "reviewerId|name|author: missing (cannot tell the LongLaMP task)": 1,
        "output: missing": 1,
        "reviewerId: expected text, got dict": 1,
        "profile: expected a list": 1,
        "output: empty": 1,
        "profile[].abstract: empty": 1,
        "profile[].year: expected a four-digit year": 1,
        "profile[].id: missing": 1,
        "longlamp: document repeated across the user's records": 2,
    }
