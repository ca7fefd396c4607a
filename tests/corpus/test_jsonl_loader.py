import gzip
import json

import pytest

from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.loaders.jsonl import FieldMapping, load_jsonl

FIELDS = FieldMapping.parse("user_id=author,body=text,timestamp=date,title=subject")
GOOD = {"author": "ann", "text": "Hello there.", "date": "2004-05-26", "subject": "Hi", "mood": "ok"}


def write_lines(path, lines: list[bytes]):
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def encode(record) -> bytes:
    return json.dumps(record).encode()


def test_loads_documents_with_mapping_and_metadata(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [encode(GOOD), encode({**GOOD, "date": 1085529600, "subject": None})])
    report = RecordReport(source="a")
    documents = list(load_jsonl(path, fields=FIELDS, report=report))
    assert [d.user_id for d in documents] == ["ann", "ann"]
    assert documents[0].title == "Hi" and documents[1].title is None
    assert documents[0].timestamp == documents[1].timestamp == 1085529600.0
    assert documents[0].doc_id == "a.jsonl:1"
    assert documents[0].metadata == {"mood": "ok"}
    assert (report.read, report.kept, report.total_skipped) == (2, 2, 0)


def test_reads_gzip(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(encode(GOOD) + b"\n")
    assert [d.body for d in load_jsonl(path, fields=FIELDS, report=RecordReport(source="a"))] == ["Hello there."]


def test_millisecond_timestamps():
    fields = FieldMapping.parse("user_id=u,body=b,timestamp=t,timestamp_unit=ms")
    assert fields.timestamp_unit == "ms"


BAD_CASES = {
    "malformed JSON": (b'{"author": "ann", "text": ', None),
    "invalid UTF-8": (b'{"author": "ann", "text": "caf\xe9", "date": "2004-05-26"}', None),
    "missing": (encode({"author": "ann", "date": "2004-05-26"}), "text"),
    "expected text, got list": (encode({**GOOD, "author": ["ann"]}), "author"),
    "empty": (encode({**GOOD, "text": "   "}), "text"),
    "unparseable date": (encode({**GOOD, "date": "26,Mai,2004"}), "date"),
}


@pytest.mark.parametrize("reason", sorted(BAD_CASES))
def test_bad_record_fails_naming_file_line_and_field(tmp_path, reason):
    line, field = BAD_CASES[reason]
    path = write_lines(tmp_path / "bad.jsonl", [encode(GOOD), line])
    with pytest.raises(BadRecordError) as caught:
        list(load_jsonl(path, fields=FIELDS, report=RecordReport(source="bad")))
    message = str(caught.value)
    assert f"bad.jsonl:2:" in message and reason in message
    assert caught.value.line == 2 and caught.value.field == field
    if field:
        assert f"field {field!r}" in message


def test_skip_bad_counts_every_reason(tmp_path):
    lines = [encode(GOOD)] + [BAD_CASES[reason][0] for reason in sorted(BAD_CASES)] + [BAD_CASES["empty"][0]]
    path = write_lines(tmp_path / "bad.jsonl", lines)
    report = RecordReport(source="bad", skip_bad=True)
    documents = list(load_jsonl(path, fields=FIELDS, report=report))
    assert len(documents) == 1
    assert report.read == len(lines) and report.kept == 1 and report.total_skipped == len(lines) - 1
    assert report.skipped["text: empty"] == 2
    assert report.skipped["date: unparseable date"] == 1
    assert "bad.jsonl:3" in report.format()


def test_field_mapping_errors_are_clear():
    with pytest.raises(ValueError, match="lacks timestamp"):
        FieldMapping.parse("user_id=a,body=b")
    with pytest.raises(ValueError, match="unknown field mapping key 'author'"):
        FieldMapping.parse("author=a,body=b,timestamp=c")
