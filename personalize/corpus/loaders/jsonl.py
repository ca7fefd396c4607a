"""Generic JSONL with a field mapping: how any one-document-per-line corpus loads."""

from __future__ import annotations

import dataclasses
import os
from typing import Iterator, Sequence

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.fields import FieldError, get_path, optional_text, parse_timestamp, require_text
from personalize.corpus.readers import iter_json_lines


@dataclasses.dataclass(frozen=True)
class FieldMapping:
    """Which source field holds each part of a `Document` (dots reach into nested objects).

    `doc_id=None` numbers documents by file and line; `metadata=None` keeps every unmapped field.
    """

    user_id: str
    body: str
    timestamp: str
    title: str | None = None
    doc_id: str | None = None
    timestamp_unit: str = "s"
    timestamp_format: str | None = None
    metadata: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, spec: str) -> "FieldMapping":
        """Reads `user_id=author_id,body=text,timestamp=date[,title=...,timestamp_unit=ms,...]`."""
        values: dict[str, object] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"field mapping item {item!r} is not KEY=FIELD")
            key = key.strip()
            if key not in {f.name for f in dataclasses.fields(cls)}:
                raise ValueError(f"unknown field mapping key {key!r} in {spec!r}")
            values[key] = tuple(value.split("+")) if key == "metadata" else value.strip()
        missing = [name for name in ("user_id", "body", "timestamp") if name not in values]
        if missing:
            raise ValueError(f"field mapping {spec!r} lacks {', '.join(missing)}")
        return cls(**values)  # type: ignore[arg-type]


def load_jsonl(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    fields: FieldMapping,
    report: RecordReport,
) -> Iterator[Document]:
    """Streams documents from one or more JSONL files (gzip too)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    mapped = {fields.user_id, fields.body, fields.timestamp, fields.title, fields.doc_id}
    for path in paths:
        path = os.fspath(path)
        stem = os.path.basename(path)
        for line, record in iter_json_lines(path, report):
            try:
                user_id = require_text(record, fields.user_id)
                body = require_text(record, fields.body)
                timestamp = parse_timestamp(
                    get_path(record, fields.timestamp),
                    field=fields.timestamp,
                    unit=fields.timestamp_unit,
                    fmt=fields.timestamp_format,
                )
                title = optional_text(record, fields.title)
                doc_id = require_text(record, fields.doc_id) if fields.doc_id else f"{stem}:{line}"
            except FieldError as error:
                report.bad(BadRecordError(path=path, line=line, field=error.field, reason=error.reason, detail=error.detail))
                continue
            if fields.metadata is None:
                metadata = {k: v for k, v in record.items() if k not in mapped}
            else:
                metadata = {k: record[k] for k in fields.metadata if k in record}
            report.kept += 1
            yield Document(user_id=user_id, doc_id=doc_id, timestamp=timestamp, body=body, title=title, metadata=metadata)
