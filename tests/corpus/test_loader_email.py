"""E-mail: mbox / maildir / .eml folders, the sender's own text, and every bad-input case."""

import gzip
import mailbox

import pytest

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.loaders.email import html_to_text, load_email, own_text


def message(*, sender="Alice Smith <Alice.Smith@Example.com>", subject="Budget", date="Mon, 02 Oct 2000 09:30:00 -0500",
            message_id="<m1@example.com>", body="See the numbers.\n", content_type="text/plain; charset=utf-8",
            extra=b""):
    headers = []
    if sender is not None:
        headers.append(f"From: {sender}")
    headers.append("To: bob@example.com")
    if subject is not None:
        headers.append(f"Subject: {subject}")
    if date is not None:
        headers.append(f"Date: {date}")
    if message_id is not None:
        headers.append(f"Message-ID: {message_id}")
    headers.append(f"Content-Type: {content_type}")
    raw_body = body if isinstance(body, bytes) else body.encode("utf-8")
    return ("\n".join(headers) + "\n").encode() + extra + b"\n" + raw_body


def mbox_bytes(*messages):
    return b"".join(b"From MAILER-DAEMON Mon Oct  2 09:30:00 2000\n" + raw + b"\n" for raw in messages)


def load(paths, *, skip_bad=False, **kwargs):
    report = RecordReport(source="email", skip_bad=skip_bad)
    return list(load_email(paths, report=report, **kwargs)), report


REPLY = message(body=(
    "Numbers look fine to me.\n"
    "> earlier quoted line\n"
    "Ship it.\n\n"
    "-----Original Message-----\n"
    "From: Bob\n"
    "Old text that is not Alice's.\n"
))
HTML_ONLY = message(
    sender="carol@example.com", subject=None, date="2000-10-03T10:00:00Z", message_id="<m2@example.com>",
    content_type="text/html; charset=utf-8",
    body="<html><head><style>p {}</style></head><body><p>Hi&nbsp;Bob,</p><p>Lunch at <b>noon</b>?<br/>Carol</p>"
         "<blockquote>old thread</blockquote></body></html>",
)
GMAIL_REPLY = message(message_id=None, subject="Re: Budget", body=(
    "Agreed.\n\nOn Mon, Oct 2, 2000 at 9:30 AM Bob Jones <\nbob@example.com> wrote:\n> anything\n"
))
ALL_QUOTED = message(message_id="<m4@example.com>", body="> only a quote\n>> and more\n")


def test_mbox_messages_become_the_senders_own_text(tmp_path):
    path = tmp_path / "alice.mbox"
    path.write_bytes(mbox_bytes(REPLY, HTML_ONLY, GMAIL_REPLY, ALL_QUOTED))
    docs, report = load(path)
    meta = {"format": "mbox", "path": str(path)}
    assert docs == [
        Document(
            user_id="alice.smith@example.com", doc_id="<m1@example.com>", timestamp=970497000.0,
            body="Numbers look fine to me.\nShip it.", title="Budget", metadata={**meta, "sender_name": "Alice Smith"},
        ),
        Document(
            user_id="carol@example.com", doc_id="<m2@example.com>", timestamp=970567200.0,
            body="Hi Bob,\n\nLunch at noon?\nCarol", title=None, metadata={**meta, "sender_name": None},
        ),
        Document(
            user_id="alice.smith@example.com", doc_id=f"{path}:25", timestamp=970497000.0,
            body="Agreed.", title="Re: Budget", metadata={**meta, "sender_name": "Alice Smith"},
        ),
    ]
    assert (report.read, report.kept, dict(report.skipped)) == (4, 3, {"email: no own text after removing quoted replies": 1})


def test_mbox_splits_where_python_mailbox_splits(tmp_path):
    path = tmp_path / "written.mbox"
    box = mailbox.mbox(str(path))
    box.add(message(body="From here on we agree.\nRegards\n"))
    box.add(message(message_id="<m2@example.com>", body="Second.\n"))
    box.flush()
    box.close()
    assert b"\n>From here on" in path.read_bytes()
    docs, report = load(path)
    assert [d.body for d in docs] == ["From here on we agree.\nRegards", "Second."]
    assert report.read == len(mailbox.mbox(str(path))) == 2


def test_gzip_mbox(tmp_path):
    path = tmp_path / "alice.mbox.gz"
    path.write_bytes(gzip.compress(mbox_bytes(REPLY)))
    docs, _ = load(path)
    assert [(d.doc_id, d.body) for d in docs] == [("<m1@example.com>", "Numbers look fine to me.\nShip it.")]


def test_maildir_and_eml_folders(tmp_path):
    box = mailbox.Maildir(str(tmp_path / "Maildir"))
    box.add(REPLY)
    box.add(HTML_ONLY)
    docs, report = load(tmp_path / "Maildir")
    assert sorted(d.doc_id for d in docs) == ["<m1@example.com>", "<m2@example.com>"]
    assert {d.metadata["format"] for d in docs} == {"maildir"}

    folder = tmp_path / "export"
    (folder / "sent").mkdir(parents=True)
    (folder / "sent" / "a.eml").write_bytes(GMAIL_REPLY)
    (folder / "b.eml").write_bytes(gzip.compress(REPLY))
    (folder / "notes.txt").write_bytes(HTML_ONLY)
    docs, report = load(folder)
    assert [(d.doc_id, d.metadata["format"]) for d in docs] == [
        ("<m1@example.com>", "eml"),
        (str(folder / "sent" / "a.eml"), "eml"),
    ]
    docs, report = load(folder, pattern="**/*")
    assert len(docs) == report.read == 3


def test_own_text_markers():
    assert own_text("Yes.\n----- Forwarded by Phillip K Allen/HOU/ECT on 10/02/2000 -----\nold") == "Yes."
    assert own_text("FYI\n\nBegin forwarded message:\n\nFrom: x") == "FYI"
    assert own_text("Hi\n---------- Forwarded message ---------\nx") == "Hi"
    assert own_text("Sure.\nOn Tue, Bob wrote:\nold") == "Sure."
    assert own_text("On Monday we ship.\nThanks") == "On Monday we ship.\nThanks"
    assert own_text("a\n  > indented quote\nb") == "a\nb"


def test_html_to_text():
    assert html_to_text("<div>one<br>two</div><script>x()</script><ul><li>a &amp; b</li></ul>") == "one\ntwo\n\na & b"


BAD_CASES = {  # name: (message, field, reason, detail)
    "no_from": (message(sender=None), "From", "missing", None),
    "no_address": (message(sender="Alice Smith"), "From", "no sender address", None),
    "no_date": (message(date=None), "Date", "missing", None),
    "bad_date": (message(date="someday soon"), "Date", "unparseable date", "'someday soon'"),
    "utf8": (message(body=b"caf\xc3\x28\n"), "body", "invalid utf-8", "at byte 3"),
    "charset": (message(content_type="text/plain; charset=x-klingon"), "body", "unknown charset", "'x-klingon'"),
    "empty_body": (message(body="\n  \n"), "body", "empty", None),
    "no_text_part": (message(content_type="application/pdf", body="%PDF"), "body", "no text/plain or text/html part", None),
}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_mbox_message_names_its_start_line(tmp_path, case, compress):
    bad, field, reason, detail = BAD_CASES[case]
    data = mbox_bytes(REPLY, bad)
    path = tmp_path / "box.mbox"
    path.write_bytes(gzip.compress(data) if compress else data)
    start = data.split(b"\n").index(b"From MAILER-DAEMON Mon Oct  2 09:30:00 2000", 1) + 1
    with pytest.raises(BadRecordError) as caught:
        load(path)
    error = caught.value
    assert (error.path, error.line, error.field, error.reason, error.detail) == (str(path), start, field, reason, detail)
    assert str(error).startswith(f"{path}:{start}: field {field!r}:")


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_eml_names_its_file(tmp_path, case):
    bad, field, reason, detail = BAD_CASES[case]
    (tmp_path / "a.eml").write_bytes(REPLY)
    (tmp_path / "b.eml").write_bytes(bad)
    with pytest.raises(BadRecordError) as caught:
        load(tmp_path)
    error = caught.value
    assert (error.path, error.line, error.field, error.reason) == (str(tmp_path / "b.eml"), None, field, reason)
    assert str(error).startswith(f"{tmp_path / 'b.eml'}: field {field!r}:")


def test_skip_bad_counts_every_reason(tmp_path):
    path = tmp_path / "box.mbox"
    path.write_bytes(mbox_bytes(REPLY, *(BAD_CASES[case][0] for case in sorted(BAD_CASES)), ALL_QUOTED, HTML_ONLY))
    docs, report = load(path, skip_bad=True)
    assert [d.doc_id for d in docs] == ["<m1@example.com>", "<m2@example.com>"]
    assert (report.read, report.kept, report.total_skipped) == (11, 2, 9)
    assert dict(report.skipped) == {
        "From: missing": 1,
        "From: no sender address": 1,
        "Date: missing": 1,
        "Date: unparseable date": 1,
        "body: invalid utf-8": 1,
        "body: unknown charset": 1,
        "body: empty": 1,
        "body: no text/plain or text/html part": 1,
        "email: no own text after removing quoted replies": 1,
    }
