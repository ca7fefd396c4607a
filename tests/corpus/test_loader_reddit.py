"""Reddit Pushshift dumps: submissions and comments, dropped records, bad records, and compression."""

import gzip
import json

import pytest

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.loaders.reddit import load_reddit

SUBMISSION = {
    "author": "spez", "created_utc": 1136073600, "title": "Tips &amp; tricks", "selftext": "Use 1 &lt; 2 wisely.",
    "id": "abc12", "subreddit": "reddit.com", "score": 10, "url": "https://www.reddit.com/r/x",
}
COMMENT = {
    "author": "kn0thing", "created_utc": "1136073700", "body": "&gt; quoted\nAgreed.", "id": "c0001",
    "link_id": "t3_abc12", "parent_id": "t3_abc12", "subreddit": "reddit.com",
}


def write_lines(path, lines, *, compress=False):
    data = b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def load(path, *, skip_bad=False):
    report = RecordReport(source="reddit", skip_bad=skip_bad)
    return list(load_reddit(path, report=report)), report


EXPECTED = [
    Document(
        user_id="spez", doc_id="t3_abc12", timestamp=1136073600.0, body="Use 1 < 2 wisely.", title="Tips & tricks",
        metadata={"kind": "submission", "subreddit": "reddit.com"},
    ),
    Document(
        user_id="kn0thing", doc_id="t1_c0001", timestamp=1136073700.0, body="> quoted\nAgreed.", title=None,
        metadata={"kind": "comment", "subreddit": "reddit.com", "link_id": "t3_abc12", "parent_id": "t3_abc12"},
    ),
]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_submission_and_comment_become_exact_documents(tmp_path, compress):
    docs, report = load(write_lines(tmp_path / "RS_2006-01", [SUBMISSION, COMMENT], compress=compress))
    assert docs == EXPECTED
    assert (report.read, report.kept, report.total_skipped) == (2, 2, 0)


def test_deleted_removed_and_link_posts_are_dropped_with_reasons(tmp_path):
    lines = [
        {**COMMENT, "author": "[deleted]"},
        {**COMMENT, "body": "[removed]"},
        {**COMMENT, "body": " [deleted] "},
        {**SUBMISSION, "author": "[removed]"},
        {**SUBMISSION, "selftext": "[deleted]"},
        {**SUBMISSION, "selftext": ""},
        SUBMISSION,
    ]
    docs, report = load(write_lines(tmp_path / "RC.json", lines))
    assert [d.doc_id for d in docs] == ["t3_abc12"]
    assert (report.read, report.kept) == (7, 1)
    assert dict(report.skipped) == {
        "reddit: author [deleted]": 1,
        "reddit: author [removed]": 1,
        "reddit: comment text [removed]": 1,
        "reddit: comment text [deleted]": 1,
        "reddit: submission text [deleted]": 1,
        "reddit: submission without self text (link post)": 1,
    }


def test_float_created_utc_is_accepted(tmp_path):
    docs, _ = load(write_lines(tmp_path / "RC.json", [{**COMMENT, "created_utc": 1136073700.0}]))
    assert docs[0].timestamp == 1136073700.0


BAD_CASES = {  # name: (line, field, reason, detail)
    "malformed": (b'{"author": "a" "id"}', None, "malformed JSON", "Expecting ',' delimiter at column 16"),
    "utf8": (b'{"author": "\xc3\x28"}', None, "invalid UTF-8", "at byte 12"),
    "not_object": (b'["author"]', None, "expected a JSON object", "got list"),
    "missing": ({k: v for k, v in COMMENT.items() if k != "author"}, "author", "missing", None),
    "mistyped": ({**COMMENT, "id": ["c0001"]}, "id", "expected text, got list", None),
    "empty_body": ({**COMMENT, "body": "  "}, "body", "empty", None),
    "bad_date": ({**COMMENT, "created_utc": "2006-01-01"}, "created_utc", "unparseable date", "'2006-01-01', expected epoch seconds"),
    "null_date": ({**COMMENT, "created_utc": None}, "created_utc", "missing (null)", None),
    "no_text": ({k: v for k, v in COMMENT.items() if k != "body"}, "body", "missing", None),
}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_record_raises_with_file_line_and_field(tmp_path, case, compress):
    bad, field, reason, detail = BAD_CASES[case]
    path = write_lines(tmp_path / "RC_2006-01.gz", [COMMENT, SUBMISSION, bad], compress=compress)
    with pytest.raises(BadRecordError) as caught:
        load(path)
    error = caught.value
    assert (error.path, error.line, error.field, error.reason, error.detail) == (str(path), 3, field, reason, detail)
    assert str(error).startswith(f"{path}:3:")


def test_skip_bad_counts_every_reason(tmp_path):
    lines = [SUBMISSION] + [BAD_CASES[case][0] for case in sorted(BAD_CASES)] + [COMMENT, {**COMMENT, "author": "[deleted]"}]
    docs, report = load(write_lines(tmp_path / "RC.json", lines), skip_bad=True)
    assert docs == EXPECTED
    assert (report.read, report.kept, report.total_skipped) == (12, 2, 10)
    assert dict(report.skipped) == {
        "malformed JSON": 1,
        "invalid UTF-8": 1,
        "expected a JSON object": 1,
        "author: missing": 1,
        "id: expected text, got list": 1,
        "body: empty": 1,
        "created_utc: unparseable date": 1,
        "created_utc: missing (null)": 1,
        "body: missing": 1,
        "reddit: author [deleted]": 1,
    }


def test_zstandard_dump_is_read_like_plain(tmp_path):
    zstandard = pytest.importorskip("zstandard", reason="the zstandard package reads .zst dumps")
    data = b"".join(json.dumps(line).encode() + b"\n" for line in [SUBMISSION, COMMENT]) + b"\xff\n"
    path = tmp_path / "RC_2006-01.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(data))
    with pytest.raises(BadRecordError, match=r"RC_2006-01\.zst:3: invalid UTF-8"):
        load(path)
    docs, report = load(path, skip_bad=True)
    assert docs == EXPECTED
    assert (report.read, report.kept, dict(report.skipped)) == (3, 2, {"invalid UTF-8": 1})
