"""Reddit Pushshift dumps: submissions (`RS_*`) and comments (`RC_*`), one JSON object per line.

A record with a `title` is a submission (title + `selftext`), one with a `body` a comment (no title).
`doc_id` is Reddit's own full name, `t3_<id>` for submissions and `t1_<id>` for comments, so the two
kinds never collide. Reddit escapes `&`, `<` and `>` as HTML entities in its JSON; they are unescaped.

Well-formed records that carry no text of a user are dropped and counted by reason, not treated as bad
input: `[deleted]` / `[removed]` authors or texts, and submissions without self text (link posts, by
far the most common kind). An empty comment body, though, is malformed and a bad record.
Files may be plain, gzip or, when the `zstandard` package is installed, Zstandard (`.zst`, the format
of the Pushshift archives): `readers.open_binary` reads all three for every loader.
"""

from __future__ import annotations

import html
import os
from typing import Any, Iterator, Sequence

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.fields import FieldError, get_path, optional_text, require_text
from personalize.corpus.readers import iter_json_lines

_GONE = ("[deleted]", "[removed]")


def _created_utc(value: Any) -> float:
    """Epoch seconds from an int, a float or a numeric string (Pushshift has all three)."""
    if value is None:
        raise FieldError("created_utc", "missing (null)")
    if isinstance(value, bool):
        raise FieldError("created_utc", "expected epoch seconds, got a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise FieldError("created_utc", "unparseable date", f"{value!r}, expected epoch seconds") from None
    raise FieldError("created_utc", f"expected epoch seconds, got {type(value).__name__}")


def load_reddit(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    report: RecordReport,
) -> Iterator[Document]:
    """Streams submissions and comments (mixed freely) from Pushshift dump files."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    for path in paths:
        path = os.fspath(path)
        for line, record in iter_json_lines(path, report):
            try:
                author = require_text(record, "author")
                post_id = require_text(record, "id")
                timestamp = _created_utc(get_path(record, "created_utc"))
                subreddit = optional_text(record, "subreddit")
                if "title" in record:
                    kind, prefix = "submission", "t3"
                    title = require_text(record, "title")
                    body = require_text(record, "selftext", allow_empty=True)
                else:
                    kind, prefix = "comment", "t1"
                    title = None
                    body = require_text(record, "body")
            except FieldError as error:
                report.bad(BadRecordError(path=path, line=line, field=error.field, reason=error.reason, detail=error.detail))
                continue
            if author in _GONE:
                report.drop(f"reddit: author {author}")
                continue
            if body.strip() in _GONE:
                report.drop(f"reddit: {kind} text {body.strip()}")
                continue
            if not body.strip():
                report.drop("reddit: submission without self text (link post)")
                continue
            metadata = {"kind": kind, "subreddit": subreddit}
            if kind == "comment":
                metadata.update({k: record[k] for k in ("link_id", "parent_id") if k in record})
            report.kept += 1
            yield Document(
                user_id=author,
                doc_id=f"{prefix}_{post_id}",
                timestamp=timestamp,
                body=html.unescape(body),
                title=html.unescape(title) if title is not None else None,
                metadata=metadata,
            )
