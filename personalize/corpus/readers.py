"""Streaming line and JSON readers shared by every loader (plain or gzip-compressed files)."""

from __future__ import annotations

import gzip
import json
import os
from typing import Any, Iterator

from personalize.corpus.errors import BadRecordError, RecordReport


def open_binary(path: str | os.PathLike):
    """Opens `path`, transparently decompressing `.gz` files (also detected by magic bytes)."""
    path = os.fspath(path)
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb")


def iter_text_lines(path: str | os.PathLike, report: RecordReport) -> Iterator[tuple[int, str]]:
    """Yields (1-based line number, text) of non-blank lines; invalid UTF-8 is a bad record."""
    path = os.fspath(path)
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            report.read += 1
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as error:
                report.bad(BadRecordError(path=path, line=number, reason="invalid UTF-8", detail=f"at byte {error.start}"))


def iter_json_lines(path: str | os.PathLike, report: RecordReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yields (line number, object) for each JSON-object line; malformed lines are bad records."""
    path = os.fspath(path)
    for number, text in iter_text_lines(path, report):
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            report.bad(BadRecordError(path=path, line=number, reason="malformed JSON", detail=f"{error.msg} at column {error.colno}"))
            continue
        if not isinstance(record, dict):
            report.bad(BadRecordError(path=path, line=number, reason="expected a JSON object", detail=f"got {type(record).__name__}"))
            continue
        yield number, record


def load_json_document(path: str | os.PathLike) -> Any:
    """Reads a whole JSON file (LaMP / LongLaMP style), naming the file on a parse error."""
    path = os.fspath(path)
    with open_binary(path) as handle:
        data = handle.read()
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise BadRecordError(path=path, line=None, reason="invalid UTF-8", detail=f"at byte {error.start}") from None
    except json.JSONDecodeError as error:
        raise BadRecordError(path=path, line=error.lineno, reason="malformed JSON", detail=f"{error.msg} at column {error.colno}") from None
