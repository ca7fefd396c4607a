"""Streaming line and JSON readers shared by every loader: plain, gzip or Zstandard files (`.zst`, the format of
the Pushshift Reddit archives; read when the `zstandard` package is installed)."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
from typing import Any, Iterator

from personalize.corpus.errors import BadRecordError, RecordReport


_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Pushshift archives are compressed with a long window; the decoder must be allowed to use it.
_ZSTD_MAX_WINDOW = 2**31


def open_binary(path: str | os.PathLike):
    """Opens `path`, transparently decompressing gzip and Zstandard files (detected by their magic bytes)."""
    path = os.fspath(path)
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic[:2] == _GZIP_MAGIC:
        return gzip.open(path, "rb")
    if magic == _ZSTD_MAGIC:
        try:
            import zstandard
        except ImportError:
            raise RuntimeError(f"{path} is Zstandard-compressed: install the `zstandard` package to read it") from None
        decompressor = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        # Closing the buffered reader closes the decompressing stream, which closes the file.
        return io.BufferedReader(decompressor.stream_reader(open(path, "rb"), closefd=True))
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


# Characters that `surrogateescape` makes of bytes that are not UTF-8; JSON escapes such as "\udc80"
# stay six ASCII characters in the raw text, so a hit here is always an undecodable byte.
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _first_character(path: str) -> bytes:
    with open_binary(path) as handle:
        while chunk := handle.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                return stripped[:1]
    return b""


def iter_json_records(path: str | os.PathLike, report: RecordReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yields (line where the record starts, object) from a JSON list file or a JSONL file.

    A file whose first character is `[` is one JSON list (read whole); otherwise it is streamed as one
    record per line. A list element holding bytes that are not UTF-8 is a bad record on its own line; a
    malformed JSON list cannot be resynchronised, so the file ends at its first syntax error (reported
    as one bad record).
    """
    path = os.fspath(path)
    if _first_character(path) != b"[":
        yield from iter_json_lines(path, report)
        return
    with open_binary(path) as handle:
        text = handle.read().decode("utf-8", errors="surrogateescape")
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    line = text.count("\n", 0, position) + 1
    counted_to = position
    while True:
        position = _WHITESPACE.match(text, position).end()
        if text.startswith("]", position):
            return
        line += text.count("\n", counted_to, position)
        counted_to = position
        report.read += 1
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            report.bad(BadRecordError(path=path, line=error.lineno, reason="malformed JSON", detail=f"{error.msg} at column {error.colno}"))
            return
        undecodable = _UNDECODABLE.search(text, position, end)
        if undecodable:
            line_start = text.rfind("\n", 0, undecodable.start()) + 1
            byte = len(text[line_start : undecodable.start()].encode("utf-8", errors="surrogateescape"))
            report.bad(BadRecordError(path=path, line=line, reason="invalid UTF-8", detail=f"at byte {byte}"))
        elif not isinstance(record, dict):
            report.bad(BadRecordError(path=path, line=line, reason="expected a JSON object", detail=f"got {type(record).__name__}"))
        else:
            yield line, record
        position = _WHITESPACE.match(text, end).end()
        if text.startswith(",", position):
            position += 1
        elif not text.startswith("]", position):
            where = text.count("\n", 0, position) + 1
            report.bad(BadRecordError(path=path, line=where, reason="malformed JSON", detail="expected ',' or ']' after a list element"))
            return


def iter_stage_records(path: str | os.PathLike, *, kind: str) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file this project wrote (prepared, ranked, ...): a corrupt line names file and line."""
    path = os.fspath(path)
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: corrupt {kind} record ({error.msg})") from None
