"""LaMP questions + outputs files: per-question users, joined golds, splits, and every bad-input case."""

import datetime as dt
import gzip
import json

import pytest

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.loaders.lamp import iter_json_records, load_lamp, split_of

QUESTION = {
    "id": "400",
    "input": "Generate a headline for the following article: Stocks fell.",
    "profile": [
        {"text": "Rates rose today.", "title": "Rates Rise", "id": "4000", "date": "2012-05-29"},
        {"text": "Markets calm.", "title": "Calm Day", "id": "4001", "date": "2012-06-01", "category": "business"},
        {"text": "Markets calm.", "title": "Calm Day", "id": "4001", "date": "2012-06-01"},
    ],
}
OTHER = {
    "id": "401",
    "input": "Generate a headline for the following article: Rain.",
    "profile": [{"text": "Sun again.", "title": "Sunny", "id": "4010", "date": "2013-01-01"}],
}
GOLDS = {"task": "LaMP_4", "golds": [{"id": "400", "output": "Stocks Slide"}, {"id": "401", "output": "Wet Week"}]}


def day(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()


def write_list(path, records, *, compress=False):
    """One record per line inside a JSON list, so record i starts on line i + 2."""
    items = [record if isinstance(record, bytes) else json.dumps(record).encode() for record in records]
    data = b"[\n" + b",\n".join(items) + b"\n]\n"
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_json(path, data):
    path.write_text(json.dumps(data))
    return path


def load(paths, *, skip_bad=False, **kwargs):
    report = RecordReport(source="lamp", skip_bad=skip_bad)
    return list(load_lamp(paths, report=report, **kwargs)), report


def expected(split="dev"):
    meta = {"task": "LaMP_4", "split": split}
    return [
        Document(user_id="LaMP_4/400", doc_id="LaMP_4/400/4000", timestamp=day("2012-05-29"), body="Rates rose today.",
                 title="Rates Rise", metadata={**meta, "role": "profile", "question_id": "400"}),
        Document(user_id="LaMP_4/400", doc_id="LaMP_4/400/4001", timestamp=day("2012-06-01"), body="Markets calm.",
                 title="Calm Day", metadata={**meta, "role": "profile", "question_id": "400", "category": "business"}),
        Document(user_id="LaMP_4/400", doc_id="LaMP_4/400/output", timestamp=day("2012-06-01") + 1, body="Stocks Slide",
                 title=None, metadata={**meta, "role": "output", "question_id": "400", "input": QUESTION["input"]}),
        Document(user_id="LaMP_4/401", doc_id="LaMP_4/401/4010", timestamp=day("2013-01-01"), body="Sun again.",
                 title="Sunny", metadata={**meta, "role": "profile", "question_id": "401"}),
        Document(user_id="LaMP_4/401", doc_id="LaMP_4/401/output", timestamp=day("2013-01-01") + 1, body="Wet Week",
                 title=None, metadata={**meta, "role": "output", "question_id": "401", "input": OTHER["input"]}),
    ]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_questions_and_golds_become_exact_documents(tmp_path, compress):
    questions = write_list(tmp_path / "dev_questions.json", [QUESTION, OTHER], compress=compress)
    docs, report = load(questions, outputs=write_json(tmp_path / "dev_outputs.json", GOLDS))
    assert docs == expected()
    assert (report.read, report.kept, dict(report.skipped)) == (2, 5, {"lamp: profile item repeated in its question": 1})


def test_jsonl_questions_and_split_argument(tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps(QUESTION) + "\n\n" + json.dumps(OTHER) + "\n")
    docs, _ = load(questions, outputs=write_json(tmp_path / "golds.json", GOLDS), split="validation")
    assert docs == expected(split="dev")


def test_without_outputs_only_profiles_are_yielded(tmp_path):
    questions = write_list(tmp_path / "test_questions.json", [QUESTION, OTHER])
    docs, _ = load(questions, task="lamp-4")
    assert [d.doc_id for d in docs] == ["LaMP_4/400/4000", "LaMP_4/400/4001", "LaMP_4/401/4010"]
    assert {d.metadata["split"] for d in docs} == {"test"}
    with pytest.raises(ValueError, match="pass outputs= or task="):
        load(questions)


@pytest.mark.parametrize(
    "task, item, body, title",
    [
        ("LaMP_7", {"text": "hello world"}, "hello world", None),
        ("LaMP_5", {"abstract": "We study x.", "title": "On X"}, "We study x.", "On X"),
        ("LaMP_6", {"text": "See attached.", "title": "Q3 plan"}, "See attached.", "Q3 plan"),
    ],
)
def test_task_table_picks_body_and_title(tmp_path, task, item, body, title):
    record = {"id": "7", "input": "prompt", "profile": [{**item, "id": "70", "date": "2009-04-06"}]}
    docs, _ = load(write_list(tmp_path / "train_questions.json", [record]), task=task)
    assert [(d.body, d.title, d.metadata["split"]) for d in docs] == [(body, title, "train")]


def test_split_and_task_are_checked_at_call_time(tmp_path):
    assert split_of("LaMP_4/train/train_questions.json", None) == "train"
    assert split_of("x/dev_questions.json.gz", None) == "dev"
    with pytest.raises(ValueError, match="pass split="):
        split_of("questions.json", None)
    with pytest.raises(ValueError, match="split must be one of"):
        split_of("questions.json", "holdout")
    questions = write_list(tmp_path / "dev_questions.json", [QUESTION])
    with pytest.raises(ValueError, match="not a generation task"):
        load(questions, task="LaMP_2")
    with pytest.raises(ValueError, match="task='LaMP_5' but"):
        load(questions, task="LaMP_5", outputs=write_json(tmp_path / "o.json", GOLDS))
    with pytest.raises(ValueError, match="1 questions files but 2 outputs files"):
        load([questions], outputs=[tmp_path / "o.json", tmp_path / "o.json"])


def with_item(**changes):
    item = {**QUESTION["profile"][0], **changes}
    return {**QUESTION, "profile": [{k: v for k, v in item.items() if v is not None}]}


BAD_CASES = {  # name: (record, field, reason, detail)
    "utf8": (b'{"id": "400", "input": "caf\xc3\x28"}', None, "invalid UTF-8", "at byte 27"),  # of its line
    "not_object": (b'"400"', None, "expected a JSON object", "got str"),
    "missing": ({k: v for k, v in QUESTION.items() if k != "input"}, "input", "missing", None),
    "mistyped": ({**QUESTION, "profile": {"text": "x"}}, "profile", "expected a list", "got dict"),
    "no_gold": ({**QUESTION, "id": "999"}, "output", "no gold output with this question id in the outputs file", None),
    "empty_body": (with_item(text=" "), "profile[].text", "empty", "item 0"),
    "missing_date": (with_item(date=None), "profile[].date", "missing", "item 0"),
    "bad_date": (with_item(date="late May"), "profile[].date", "unparseable date", "item 0, 'late May'"),
    "item_not_object": ({**QUESTION, "profile": ["text"]}, "profile[]", "expected a JSON object", "item 0, got str"),
}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_question_raises_with_file_line_and_field(tmp_path, case, compress):
    bad, field, reason, detail = BAD_CASES[case]
    questions = write_list(tmp_path / "dev_questions.json", [OTHER, bad], compress=compress)
    with pytest.raises(BadRecordError) as caught:
        load(questions, outputs=write_json(tmp_path / "dev_outputs.json", GOLDS))
    error = caught.value
    assert (error.path, error.line, error.field, error.reason, error.detail) == (str(questions), 3, field, reason, detail)
    assert str(error).startswith(f"{questions}:3:")


def test_skip_bad_counts_every_reason(tmp_path):
    records = [OTHER] + [BAD_CASES[case][0] for case in sorted(BAD_CASES)]
    questions = write_list(tmp_path / "dev_questions.json", records)
    docs, report = load(questions, outputs=write_json(tmp_path / "dev_outputs.json", GOLDS), skip_bad=True)
    # A question whose only profile item is bad still yields its gold output (dated 0: no dated profile).
    assert docs[:2] == expected()[3:]
    assert [(d.doc_id, d.timestamp) for d in docs[2:]] == [("LaMP_4/400/output", 0.0)] * 4
    assert (report.read, report.kept, report.total_skipped) == (10, 2 + 4, 9)
    assert dict(report.skipped) == {
        "invalid UTF-8": 1,
        "expected a JSON object": 1,
        "input: missing": 1,
        "profile: expected a list": 1,
        "output: no gold output with this question id in the outputs file": 1,
        "profile[].text: empty": 1,
        "profile[].date: missing": 1,
        "profile[].date: unparseable date": 1,
        "profile[]: expected a JSON object": 1,
    }


def test_malformed_json_list_ends_the_file(tmp_path):
    questions = write_list(tmp_path / "dev_questions.json", [OTHER, b'{"id": "400" "input": "x"}', QUESTION])
    with pytest.raises(BadRecordError, match=r"dev_questions\.json:3: malformed JSON \(Expecting ',' delimiter"):
        load(questions, task="LaMP_4")
    docs, report = load(questions, task="LaMP_4", skip_bad=True)
    assert [d.doc_id for d in docs] == ["LaMP_4/401/4010"]
    assert (report.read, report.kept, dict(report.skipped)) == (2, 1, {"malformed JSON": 1})


def test_json_list_records_report_their_first_line(tmp_path):
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps([{"a": 1}, {"b": [1, 2]}, {"c": "x"}], indent=2))
    report = RecordReport(source="x")
    assert [line for line, _ in iter_json_records(path, report)] == [2, 5, 11]
    assert report.read == 3


def test_bad_outputs_file_is_fatal_even_when_skipping(tmp_path):
    questions = write_list(tmp_path / "dev_questions.json", [QUESTION])
    cases = [
        ({"golds": []}, "task", "missing"),
        ({"task": "LaMP_1", "golds": []}, "task", "not a LaMP generation task"),
        ({"task": "LaMP_4", "golds": {}}, "golds", "expected a list"),
        ({"task": "LaMP_4", "golds": [{"id": "400"}]}, "golds[0].output", "missing"),
    ]
    for data, field, reason in cases:
        with pytest.raises(BadRecordError) as caught:
            load(questions, outputs=write_json(tmp_path / "dev_outputs.json", data), skip_bad=True)
        assert (caught.value.path, caught.value.field, caught.value.reason) == (str(tmp_path / "dev_outputs.json"), field, reason)
