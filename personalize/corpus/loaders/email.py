"""E-mail (the paper's Avocado setting): mbox files, maildir folders and folders of `.eml` files.

A document is one message in the sender's own words: the user is the From address (lower-cased), the
title the Subject, the time the Date header, and the body the text/plain part (or the HTML part turned
into text when there is no plain one) with quoted replies cut away: lines starting with `>` and
everything from "-----Original Message-----", "On ... wrote:", "----- Forwarded by" / "----- Forwarded
message", or "Begin forwarded message" on. A message with no own text left is dropped and counted.
`doc_id` is the Message-ID, or the file path (with the mbox line) when a message has none.

A file whose first line starts with "From " is an mbox (split where Python's `mailbox.mbox` splits:
at every line starting with "From "; `>From ` escapes are undone); any other file is one message.
Errors name the mbox line where the message starts, or the message's own file.
"""

from __future__ import annotations

import email.policy
import email.utils
import html.parser
import os
import pathlib
import re
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Iterator, Sequence

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.fields import FieldError, parse_timestamp
from personalize.corpus.readers import open_binary

_PARSER = BytesParser(policy=email.policy.default)
_QUOTE_START = re.compile(
    r"^\s*(?:-{2,}\s*Original Message\s*-{2,}|-{2,}\s*Forwarded (?:by|message)\b|Begin forwarded message\b)",
    re.IGNORECASE,
)
_ESCAPED_FROM = re.compile(rb"^>+From ")
_BLANK_RUNS = re.compile(r"\n{3,}")
_ASCII_NAMES = {"us-ascii", "ascii", "ansi_x3.4-1968"}


class _HtmlText(html.parser.HTMLParser):
    """HTML to plain text: block elements become line breaks; scripts, styles and blockquotes vanish."""

    _BLOCKS = {"br", "p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
    _HIDDEN = {"script", "style", "head", "title", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self._BLOCKS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = (line.strip() for line in "".join(self.parts).split("\n"))
        return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> str:
    converter = _HtmlText()
    converter.feed(markup)
    converter.close()
    return converter.text()


def own_text(body: str) -> str:
    """The sender's own words: drops `>` lines and cuts at the first reply / forward marker."""
    lines = body.split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _QUOTE_START.match(line):
            break
        if line.lstrip().startswith("On "):
            following = lines[index + 1].rstrip() if index + 1 < len(lines) else ""
            if line.rstrip().endswith("wrote:") or following.endswith("wrote:"):
                break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()


def _header(message: EmailMessage, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError, AttributeError):
        raise FieldError(name, "unparseable header") from None
    if value is None:
        return None
    return str(value).strip() or None


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",)) or message.get_body(preferencelist=("html",))
    if part is None:
        raise FieldError("body", "no text/plain or text/html part")
    payload = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "utf-8").lower()
    if charset in _ASCII_NAMES:
        charset = "utf-8"  # a superset; mail tools often label 8-bit UTF-8 text as ASCII
    try:
        text = payload.decode(charset)
    except LookupError:
        raise FieldError("body", "unknown charset", repr(charset)) from None
    except UnicodeDecodeError as error:
        raise FieldError("body", f"invalid {charset}", f"at byte {error.start}") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    if not text.strip():
        raise FieldError("body", "empty")
    return text


def _document(raw: bytes, *, path: str, line: int | None, fallback_id: str, kind: str, report: RecordReport) -> Document | None:
    """One parsed message, or None after reporting why it yields no document."""
    try:
        message = _PARSER.parsebytes(raw)
        sender = _header(message, "From")
        if sender is None:
            raise FieldError("From", "missing")
        name, address = email.utils.parseaddr(sender)
        if "@" not in address:
            raise FieldError("From", "no sender address")
        date = _header(message, "Date")
        if date is None:
            raise FieldError("Date", "missing")
        timestamp = parse_timestamp(date, field="Date")
        title = _header(message, "Subject")
        doc_id = _header(message, "Message-ID") or fallback_id
        body = _body_text(message)
    except FieldError as error:
        report.bad(BadRecordError(path=path, line=line, field=error.field, reason=error.reason, detail=error.detail))
        return None
    text = own_text(body)
    if not text:
        report.drop("email: no own text after removing quoted replies")
        return None
    return Document(
        user_id=address.lower(),
        doc_id=doc_id,
        timestamp=timestamp,
        body=text,
        title=title,
        metadata={"format": kind, "path": path, "sender_name": name or None},
    )


def _iter_mbox(path: str) -> Iterator[tuple[int, bytes]]:
    """(line where the message's "From " line is, message bytes without it), streaming."""
    start: int | None = None
    lines: list[bytes] = []
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.startswith(b"From "):
                if start is not None:
                    yield start, b"".join(lines)
                start, lines = number, []
            elif start is not None:
                lines.append(raw[1:] if _ESCAPED_FROM.match(raw) else raw)
    if start is not None:
        yield start, b"".join(lines)


def _is_mbox(path: str) -> bool:
    with open_binary(path) as handle:
        for raw in handle:
            if raw.strip():
                return raw.startswith(b"From ")
    return False


def _message_files(folder: pathlib.Path, pattern: str) -> tuple[list[pathlib.Path], str]:
    """The message files of a maildir (`cur/` then `new/`) or of any folder (matching `pattern`)."""
    if (folder / "cur").is_dir() and (folder / "new").is_dir():
        candidates, kind = [*sorted((folder / "cur").iterdir()), *sorted((folder / "new").iterdir())], "maildir"
    else:
        candidates, kind = sorted(folder.glob(pattern)), "eml"
    return [file for file in candidates if file.is_file() and not file.name.startswith(".")], kind


def load_email(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    report: RecordReport,
    pattern: str = "**/*.eml",
) -> Iterator[Document]:
    """Streams sender documents from mbox files, maildirs (`cur/` + `new/`) and message folders.

    A folder that is not a maildir is read as the files matching `pattern` (e.g. `**/*` for the
    Enron-style folders of numbered files); gzip-compressed files are read transparently.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    for given in paths:
        given = os.fspath(given)
        if os.path.isdir(given):
            files, kind = _message_files(pathlib.Path(given), pattern)
            sources = [(os.fspath(file), kind) for file in files]
        elif _is_mbox(given):
            sources = [(given, "mbox")]
        else:
            sources = [(given, "eml")]
        for path, kind in sources:
            if kind == "mbox":
                messages = ((line, raw, f"{path}:{line}") for line, raw in _iter_mbox(path))
            else:
                with open_binary(path) as handle:
                    messages = iter([(None, handle.read(), path)])
            for line, raw, fallback_id in messages:
                report.read += 1
                document = _document(raw, path=path, line=line, fallback_id=fallback_id, kind=kind, report=report)
                if document is not None:
                    report.kept += 1
                    yield document
