"""Amazon reviews (2018 release by Ni et al., 2023 release by Hou et al.): one review per JSON line.

2018: `reviewerID`, `asin`, `unixReviewTime` (seconds), `summary` (the title), `reviewText`, `overall`.
2023: `user_id`, `asin`, `parent_asin`, `timestamp` (milliseconds), `title`, `text`, `rating`.
The release is detected per record (`reviewerID` means 2018, `user_id` means 2023) unless `version=`
fixes it. `doc_id` is `<user>/<asin>/<time in the source's unit>`: a user reviews a product once at a
given time, and the key is stable across re-downloads and file orders. Line breaks written as `<br />`
(common in 2023 texts) become newlines; nothing else in the text is changed.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Iterator, Mapping, Sequence

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.fields import FieldError, get_path, optional_text, parse_timestamp, require_text
from personalize.corpus.readers import iter_json_lines


@dataclasses.dataclass(frozen=True)
class ReviewFormat:
    """Field names of one Amazon release."""

    user: str
    time: str
    time_unit: str
    title: str
    body: str
    rating: str
    extra: tuple[str, ...]


FORMATS: Mapping[str, ReviewFormat] = {
    "2018": ReviewFormat(
        user="reviewerID", time="unixReviewTime", time_unit="s", title="summary", body="reviewText",
        rating="overall", extra=("verified", "vote", "style"),
    ),
    "2023": ReviewFormat(
        user="user_id", time="timestamp", time_unit="ms", title="title", body="text",
        rating="rating", extra=("parent_asin", "verified_purchase", "helpful_vote"),
    ),
}

_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _detect_version(record: Mapping[str, Any]) -> str:
    for version, fmt in FORMATS.items():
        if fmt.user in record:
            return version
    raise FieldError("reviewerID|user_id", "missing (cannot tell the Amazon release)")


def _integer_time(value: Any, field: str) -> int:
    """Amazon times are integers; a numeric string is accepted, anything else is a bad record."""
    if isinstance(value, bool):
        raise FieldError(field, "expected an integer time, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if value is None:
        raise FieldError(field, "missing (null)")
    raise FieldError(field, "unparseable date", repr(value))


def _rating(record: Mapping[str, Any], field: str) -> float | None:
    if field not in record or record[field] is None:
        return None
    value = record[field]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FieldError(field, f"expected a number, got {type(value).__name__}")
    try:
        return float(value)
    except ValueError:
        raise FieldError(field, "expected a number", repr(value)) from None


def load_amazon(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    report: RecordReport,
    version: str | int | None = None,
) -> Iterator[Document]:
    """Streams reviews from Amazon JSONL files (gzip too); `version` is "2018", "2023" or None (detect)."""
    if version is not None and str(version) not in FORMATS:
        raise ValueError(f"Amazon version must be one of {sorted(FORMATS)} or None, got {version!r}")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    for path in paths:
        path = os.fspath(path)
        for line, record in iter_json_lines(path, report):
            try:
                record_version = str(version) if version is not None else _detect_version(record)
                fmt = FORMATS[record_version]
                user_id = require_text(record, fmt.user)
                asin = require_text(record, "asin")
                time = _integer_time(get_path(record, fmt.time), fmt.time)
                timestamp = parse_timestamp(time, field=fmt.time, unit=fmt.time_unit)
                body = _LINE_BREAK.sub("\n", require_text(record, fmt.body)).strip()
                if not body:
                    raise FieldError(fmt.body, "empty")
                title = optional_text(record, fmt.title)
                rating = _rating(record, fmt.rating)
            except FieldError as error:
                report.bad(BadRecordError(path=path, line=line, field=error.field, reason=error.reason, detail=error.detail))
                continue
            metadata = {"source": f"amazon{record_version}", "asin": asin, "rating": rating}
            metadata.update({k: record[k] for k in fmt.extra if k in record})
            report.kept += 1
            yield Document(
                user_id=user_id,
                doc_id=f"{user_id}/{asin}/{time}",
                timestamp=timestamp,
                body=body,
                title=_LINE_BREAK.sub(" ", title).strip() if title else None,
                metadata=metadata,
            )
