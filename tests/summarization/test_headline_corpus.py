"""Headline corpus: title cleaning, every skip reason counted, the user filter, training users only, and the CLI."""

import functools
import json

import pytest

from personalize.cli.main import main
from personalize.corpus.document import Document
from personalize.corpus.errors import RecordReport
from personalize.preparation.dataset import PreparedDataset
from personalize.preparation.prepare import prepare_corpus
from personalize.preparation.run import prepare_dataset
from personalize.summarization import headline_corpus
from personalize.summarization.context_independent import read_summarization_corpus

BODY = "The quarterly budget is attached; please send comments on the travel line by Friday. " * 2


def _document(doc_id: str, *, title: str | None, body: str = BODY, user_id: str = "alice") -> Document:
    return Document(user_id=user_id, doc_id=doc_id, timestamp=0.0, body=body, title=title)


def _records(documents, **kwargs) -> tuple[list[dict], RecordReport]:
    report = RecordReport(source="test")
    return list(headline_corpus.headline_records(documents=documents, report=report, **kwargs)), report


@pytest.mark.parametrize("title, expected", [
    ("Re: RE: Fw: FWD:  Budget   for\tQ3 ", "Budget for Q3"),
    ("fwd : Re[2]:Lunch", "Lunch"),
    ("Re:Re:", ""),
    ("Regarding: the plan", "Regarding: the plan"),  # a word starting with "re" is not a prefix
    ("Review of FW: form", "Review of FW: form"),  # only leading prefixes go
    ("Great\n  bow", "Great bow"),
])
def test_clean_title(title, expected):
    assert headline_corpus.clean_title(title) == expected


def test_every_skip_reason_is_counted_and_the_rest_kept():
    documents = [
        _document("kept", title="RE: Budget  comments"),
        _document("none", title=None),
        _document("empty", title=""),
        _document("prefix-only", title="Re: FW: "),
        _document("short", title="Hi", body="x" * 99),
        _document("exactly-100", title="Hi", body="  " + "y" * 100 + "\n"),  # stripped: 100 characters, kept
        _document("long-title", title="z" * 120, body="w" * 120),
        _document("equal-title", title="q" * 110, body="q" * 110),
    ]
    records, report = _records(documents)
    assert records == [
        {"id": "alice/kept", "document": BODY.strip(), "summary": "Budget comments"},
        {"id": "alice/exactly-100", "document": "y" * 100, "summary": "Hi"},
    ]
    assert (report.read, report.kept) == (8, 2)
    assert report.skipped == {"no title": 2, "title empty after cleaning (reply/forward prefixes, whitespace)": 1,
                              "body shorter than 100 characters": 1, "title not shorter than the body": 2}


def test_user_filter_and_max_records_stop_reading():
    documents = iter([_document("a1", title="One"), _document("b1", title="Two", user_id="bob"),
                      _document("a2", title="Three"), _document("a3", title="Four")])
    records, report = _records(documents, user_ids={"alice"}, max_records=2)
    assert [r["id"] for r in records] == ["alice/a1", "alice/a2"]
    assert (report.read, report.kept, dict(report.skipped)) == (3, 2, {"user not selected": 1})
    assert next(documents).doc_id == "a3"  # nothing past the last kept record was read
    with pytest.raises(ValueError, match="max_records must be at least 1"):
        headline_corpus.headline_records(documents=[], report=RecordReport(source="test"), max_records=0)


def _prepare_demo(output_dir: str, **prepare_options) -> str:
    prepare_dataset(name="demo", format="demo", output_dir=output_dir, num_shards=2,
                    loader_options={"num_users": 4, "documents_per_user": (10, 11), "seed": 0},
                    prepare=functools.partial(prepare_corpus, **prepare_options), log=lambda line: None)
    return output_dir


def test_prepared_corpus_holds_every_document_of_the_training_users_only(tmp_path, capsys):
    prepared = _prepare_demo(str(tmp_path / "prepared"))
    dataset = PreparedDataset(prepared)
    split_of = {e.user_id: e.split for split in ("train", "validation", "test") for e in dataset.examples(split)}
    assert sorted(split_of.values()) == ["test", "train", "train", "validation"]
    output = tmp_path / "headlines.jsonl"
    assert main(["headline-corpus", "--prepared_dir", prepared, "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    records = [json.loads(line) for line in output.read_text().splitlines()]
    documents = {f"{d.user_id}/{d.doc_id}": d for d in dataset.documents()}
    expected = sorted(i for i, d in documents.items() if split_of[d.user_id] == "train")
    assert sorted(r["id"] for r in records) == expected  # the demo's titles and bodies all qualify
    assert all(r["summary"] == documents[r["id"]].title and r["document"] == documents[r["id"]].body for r in records)
    held_out = len(documents) - len(expected)
    assert f"{len(documents)} records read, {len(expected)} kept, {held_out} skipped" in printed
    assert f"skipped {held_out:>7} x user not selected" in printed
    assert [r["targets"] for r in read_summarization_corpus(path=str(output))] == [r["summary"] for r in records]


def test_a_temporal_split_has_no_training_only_users(tmp_path):
    prepared = _prepare_demo(str(tmp_path / "prepared"), split_mode="temporal")
    with pytest.raises(ValueError, match="has no training-only users"):
        headline_corpus.write_prepared_headline_corpus(prepared_dir=prepared, output_path=str(tmp_path / "h.jsonl"))


def test_cli_on_a_generated_mail_file(tmp_path, capsys):
    source = tmp_path / "sent.jsonl"
    rows = [{"box": "kim", "when": "2001-10-26T10:18:34", "subject": "RE: FW: Gas  contract", "text": BODY},
            {"box": "kim", "when": "2001-10-27T09:00:00", "subject": None, "text": BODY},
            {"box": "lee", "when": "2001-10-28T09:00:00", "subject": "Lunch", "text": "Noon?"}]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    output = tmp_path / "out" / "headlines.jsonl"
    args = ["headline-corpus", "--format", "jsonl", "--input", str(source), "--output", str(output),
            "--fields", "user_id=box,title=subject,body=text,timestamp=when"]
    assert main(args) == 0
    assert [json.loads(line) for line in output.read_text().splitlines()] == [
        {"id": "kim/sent.jsonl:1", "document": BODY.strip(), "summary": "Gas contract"}]
    printed = capsys.readouterr().out
    assert "headline corpus: 3 records read, 1 kept, 2 skipped" in printed
    assert "skipped       1 x no title" in printed and "skipped       1 x body shorter than 100 characters" in printed

    source.write_text(source.read_text() + '{"box": "kim", "when": "yesterday", "subject": "x", "text": "y"}\n')
    output.unlink()
    assert main(args) == 2
    assert f"{source}:4: field 'when': unparseable date" in capsys.readouterr().err
    assert not output.exists()
