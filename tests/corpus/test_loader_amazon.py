"""Amazon reviews 2018 / 2023: exact documents, release detection, and every bad-input case."""

import gzip
import json

import pytest

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.loaders.amazon import load_amazon

REVIEW_2018 = {
    "overall": 4.0, "verified": True, "reviewTime": "09 13, 2009", "reviewerID": "A2SUAM1J3GNN3B",
    "asin": "0000013714", "reviewerName": "J. McDonald", "reviewText": "I bought this for my husband.<br />He loves it.",
    "summary": "Heavenly Highway Hymns", "unixReviewTime": 1252800000,
}
REVIEW_2023 = {
    "rating": 5.0, "title": "Such a lovely scent", "text": "Great product.<br /><br />Would buy again.", "images": [],
    "asin": "B00YQ6X8EO", "parent_asin": "B00YQ6X8EO", "user_id": "AGKHLEW2SOWHNMFQIJGBECAF7INQ",
    "timestamp": 1588687728923, "helpful_vote": 0, "verified_purchase": True,
}


def write_lines(path, lines, *, compress=False):
    data = b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def load(path, **kwargs):
    report = kwargs.pop("report", None) or RecordReport(source="amazon")
    return list(load_amazon(path, report=report, **kwargs)), report


def test_2018_review_becomes_exact_document(tmp_path):
    docs, report = load(write_lines(tmp_path / "Books.json", [REVIEW_2018]))
    assert docs == [
        Document(
            user_id="A2SUAM1J3GNN3B",
            doc_id="A2SUAM1J3GNN3B/0000013714/1252800000",
            timestamp=1252800000.0,
            body="I bought this for my husband.\nHe loves it.",
            title="Heavenly Highway Hymns",
            metadata={"source": "amazon2018", "asin": "0000013714", "rating": 4.0, "verified": True},
        )
    ]
    assert (report.read, report.kept, report.total_skipped) == (1, 1, 0)


def test_2023_review_from_gzip_converts_milliseconds(tmp_path):
    docs, report = load(write_lines(tmp_path / "Books.jsonl.gz", [REVIEW_2023], compress=True))
    assert docs == [
        Document(
            user_id="AGKHLEW2SOWHNMFQIJGBECAF7INQ",
            doc_id="AGKHLEW2SOWHNMFQIJGBECAF7INQ/B00YQ6X8EO/1588687728923",
            timestamp=1588687728.923,
            body="Great product.\n\nWould buy again.",
            title="Such a lovely scent",
            metadata={
                "source": "amazon2023", "asin": "B00YQ6X8EO", "rating": 5.0, "parent_asin": "B00YQ6X8EO",
                "verified_purchase": True, "helpful_vote": 0,
            },
        )
    ]
    assert (report.read, report.kept) == (1, 1)


def test_releases_are_detected_per_record(tmp_path):
    docs, _ = load(write_lines(tmp_path / "mixed.json", [REVIEW_2018, REVIEW_2023, {**REVIEW_2018, "summary": None}]))
    assert [d.metadata["source"] for d in docs] == ["amazon2018", "amazon2023", "amazon2018"]
    assert docs[2].title is None


def test_fixed_version_rejects_the_other_release(tmp_path):
    path = write_lines(tmp_path / "b.json", [REVIEW_2018, REVIEW_2023])
    with pytest.raises(BadRecordError, match=r"b\.json:2: field 'reviewerID': missing"):
        load(path, version=2018)
    docs, report = load(path, version="2023", report=RecordReport(source="a", skip_bad=True))
    assert [d.doc_id for d in docs] == ["AGKHLEW2SOWHNMFQIJGBECAF7INQ/B00YQ6X8EO/1588687728923"]
    assert dict(report.skipped) == {"user_id: missing": 1}


def test_unknown_version_is_refused_at_call_time(tmp_path):
    with pytest.raises(ValueError, match="2014"):
        load(write_lines(tmp_path / "a.json", [REVIEW_2018]), version="2014")


def drop(record, key):
    return {k: v for k, v in record.items() if k != key}


BAD_CASES = {  # name: (line, field, reason, detail)
    "malformed": (b'{"reviewerID": "A" "asin"}', None, "malformed JSON", "Expecting ',' delimiter at column 20"),
    "utf8": (b'{"reviewerID": "A\xff"}', None, "invalid UTF-8", "at byte 17"),
    "missing": (drop(REVIEW_2018, "reviewText"), "reviewText", "missing", None),
    "mistyped": ({**REVIEW_2018, "reviewerID": ["A"]}, "reviewerID", "expected text, got list", None),
    "mistyped_rating": ({**REVIEW_2018, "overall": "five"}, "overall", "expected a number", "'five'"),
    "empty_body": ({**REVIEW_2018, "reviewText": " <br/> "}, "reviewText", "empty", None),
    "null_body": ({**REVIEW_2023, "text": None}, "text", "missing (null)", None),
    "bad_date": ({**REVIEW_2018, "unixReviewTime": "09 13, 2009"}, "unixReviewTime", "unparseable date", "'09 13, 2009'"),
    "no_release": ({"asin": "X", "text": "hello"}, "reviewerID|user_id", "missing (cannot tell the Amazon release)", None),
}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_record_raises_with_file_line_and_field(tmp_path, case, compress):
    bad, field, reason, detail = BAD_CASES[case]
    path = write_lines(tmp_path / "reviews.json", [REVIEW_2018, bad], compress=compress)
    with pytest.raises(BadRecordError) as caught:
        load(path)
    error = caught.value
    assert (error.path, error.line, error.field, error.reason, error.detail) == (str(path), 2, field, reason, detail)
    assert str(error).startswith(f"{path}:2:" + (f" field {field!r}:" if field else ""))


def test_skip_bad_counts_every_reason(tmp_path):
    lines = [REVIEW_2018] + [BAD_CASES[case][0] for case in sorted(BAD_CASES)] + [REVIEW_2023]
    path = write_lines(tmp_path / "reviews.json.gz", lines, compress=True)
    docs, report = load(path, report=RecordReport(source="amazon", skip_bad=True))
    assert [d.metadata["source"] for d in docs] == ["amazon2018", "amazon2023"]
    assert (report.read, report.kept, report.total_skipped) == (11, 2, 9)
    assert dict(report.skipped) == {
        "malformed JSON": 1,
        "invalid UTF-8": 1,
        "reviewText: missing": 1,
        "reviewerID: expected text, got list": 1,
        "overall: expected a number": 1,
        "reviewText: empty": 1,
        "text: missing (null)": 1,
        "unixReviewTime: unparseable date": 1,
        "reviewerID|user_id: missing (cannot tell the Amazon release)": 1,
    }


def test_numeric_string_time_is_accepted(tmp_path):
    docs, _ = load(write_lines(tmp_path / "a.json", [{**REVIEW_2018, "unixReviewTime": "1252800000"}]))
    assert docs[0].timestamp == 1252800000.0
    assert docs[0].doc_id == "A2SUAM1J3GNN3B/0000013714/1252800000"


def test_loader_streams(tmp_path):
    path = write_lines(tmp_path / "a.json", [REVIEW_2018, b"not json"])
    stream = load_amazon(path, report=RecordReport(source="amazon"))
    assert next(stream).user_id == "A2SUAM1J3GNN3B"
    with pytest.raises(BadRecordError):
        next(stream)
