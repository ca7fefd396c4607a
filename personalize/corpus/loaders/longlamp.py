"""LongLaMP (arXiv 2407.11016): rebuild users and their documents from the records' profiles.

A LongLaMP record is `{<user key>, input, output, profile: [...]}`: the profile items are the user's
earlier documents and `output` is the current document (its prompt `input` is kept in
`metadata["input"]`). Records of one user share profile items, so documents are de-duplicated per user
(by the item's `id` where the format has one, and always by the text itself).

Timestamps are synthesised, since only abstract_generation dates its items (by year): a user's
documents are numbered in the order they are first met (a record's profile items in list order, then
its output) and that number is the timestamp in seconds. For abstract_generation the number is added
to 1 January (UTC) of the item's year, and the output is dated in the latest year of its profile, so
years order documents first and position breaks ties. Either way a record's profile items come before
its output. `metadata["synthetic_timestamp"]` marks every such document.

The record's own split (train / dev / test, from `split=` or the file name; `val` is read as `dev`)
is kept in `metadata["split"]`, so LongLaMP's published splits stay available next to the paper's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from typing import Any, Iterator, Mapping, Sequence

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.fields import FieldError, get_path, optional_text, require_text
from personalize.corpus.loaders.lamp import profile_item_error, split_of
from personalize.corpus.readers import iter_json_records


@dataclasses.dataclass(frozen=True)
class ProfileFormat:
    """Where one LongLaMP task keeps the user and each profile item's parts."""

    user: str
    body: str
    title: str
    item_id: str | None = None
    year: str | None = None


FORMATS: Mapping[str, ProfileFormat] = {
    "product_review": ProfileFormat(user="reviewerId", body="reviewText", title="summary"),
    "abstract_generation": ProfileFormat(user="name", body="abstract", title="title", item_id="id", year="year"),
    "topic_writing": ProfileFormat(user="author", body="content", title="summary", item_id="id"),
}


@dataclasses.dataclass
class _UserState:
    """What one user's earlier records left behind: the document order and the texts already seen."""

    next_position: int = 0
    latest_year: int | None = None
    seen: set[str] = dataclasses.field(default_factory=set)


def _year(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FieldError(field, f"expected a year, got {type(value).__name__}")
    text = str(value).strip()
    if not (text.isdigit() and len(text) == 4):
        raise FieldError(field, "expected a four-digit year", repr(text))
    return int(text)


def _year_start(year: int | None) -> float:
    if year is None:
        return 0.0
    return dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc).timestamp()


def _text_key(body: str) -> str:
    return hashlib.sha1(body.encode("utf-8")).hexdigest()[:16]


def _detect_task(record: Mapping[str, Any]) -> str:
    for task, fmt in FORMATS.items():
        if fmt.user in record:
            return task
    keys = "|".join(fmt.user for fmt in FORMATS.values())
    raise FieldError(keys, "missing (cannot tell the LongLaMP task)")


def load_longlamp(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    report: RecordReport,
    task: str | None = None,
    split: str | None = None,
) -> Iterator[Document]:
    """Streams de-duplicated user documents from LongLaMP JSON list or JSONL files (gzip too).

    `task` (product_review, abstract_generation or topic_writing) is detected per record from the user
    key when not given. A bad profile item is skipped alone; a bad record field skips the record.
    """
    if task is not None and task not in FORMATS:
        raise ValueError(f"LongLaMP task must be one of {sorted(FORMATS)}, got {task!r}")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    users: dict[tuple[str, str], _UserState] = {}
    for path in paths:
        path = os.fspath(path)
        record_split = split_of(path, split)
        for line, record in iter_json_records(path, report):
            try:
                record_task = task or _detect_task(record)
                fmt = FORMATS[record_task]
                user_id = require_text(record, fmt.user)
                prompt = require_text(record, "input")
                output = require_text(record, "output")
                profile = get_path(record, "profile")
                if not isinstance(profile, list):
                    raise FieldError("profile", "expected a list", f"got {type(profile).__name__}")
            except FieldError as error:
                report.bad(BadRecordError(path=path, line=line, field=error.field, reason=error.reason, detail=error.detail))
                continue
            state = users.setdefault((record_task, user_id), _UserState())
            common = {"task": record_task, "split": record_split, "synthetic_timestamp": True}
            for index, item in enumerate(profile):
                try:
                    if not isinstance(item, dict):
                        raise FieldError("", "expected a JSON object", f"got {type(item).__name__}")
                    body = require_text(item, fmt.body)
                    title = optional_text(item, fmt.title)
                    item_id = require_text(item, fmt.item_id) if fmt.item_id else None
                    year = _year(get_path(item, fmt.year), fmt.year) if fmt.year else None
                except FieldError as error:
                    report.bad(profile_item_error(path=path, line=line, index=index, error=error))
                    continue
                keys = {f"text:{_text_key(body)}"} | ({f"id:{item_id}"} if item_id else set())
                if keys & state.seen:
                    report.drop("longlamp: document repeated across the user's records")
                    continue
                state.seen |= keys
                if year is not None:
                    state.latest_year = year if state.latest_year is None else max(state.latest_year, year)
                extra = {k: v for k, v in item.items() if k not in {fmt.body, fmt.title, fmt.item_id, fmt.year, fmt.user}}
                report.kept += 1
                yield Document(
                    user_id=user_id,
                    doc_id=f"{user_id}/{item_id or _text_key(body)}",
                    timestamp=_year_start(year) + state.next_position,
                    body=body,
                    title=title,
                    metadata={**extra, **common, "role": "profile", **({"year": year} if year is not None else {})},
                )
                state.next_position += 1
            key = f"text:{_text_key(output)}"
            if key in state.seen:
                report.drop("longlamp: document repeated across the user's records")
                continue
            state.seen.add(key)
            report.kept += 1
            yield Document(
                user_id=user_id,
                doc_id=f"{user_id}/{_text_key(output)}",
                timestamp=_year_start(state.latest_year if fmt.year else None) + state.next_position,
                body=output,
                title=None,
                metadata={**common, "role": "output", "input": prompt},
            )
            state.next_position += 1
