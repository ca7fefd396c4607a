"""A public summarization corpus from titled documents: the title is the summary of the body (headline generation).

SumCtxInd needs a summarizer trained on data other than the generation task. Headline generation is a standard
summarization task (Gigaword; AESLC is exactly e-mail body -> subject), and our titled corpora hold such pairs:
Amazon review text -> review title, e-mail body -> subject, the demo corpus's body -> title (blog posts have none).
Records are `{"id", "document", "summary"}`, what `context_independent.read_summarization_corpus` reads by default.
Built from a prepared dataset, only its training-only users' documents are used, so no held-out user's text trains
the summarizer.
"""

from __future__ import annotations

import os
import re
from typing import Collection, Iterable, Iterator

from personalize.author_distinction.pairs import training_only_users
from personalize.corpus.document import Document
from personalize.corpus.errors import RecordReport
from personalize.preparation.dataset import PreparedDataset, write_jsonl_atomically

# "Re:", "RE :", "Fw:", "FWD:", "Re[2]:" ... repeated: the reply/forward marks an e-mail client adds to a subject.
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fwd?)\s*(?:\[\d+\])?\s*:)+", re.IGNORECASE)

NO_TITLE = "no title"
EMPTY_TITLE = "title empty after cleaning (reply/forward prefixes, whitespace)"
NOT_SELECTED = "user not selected"
TITLE_NOT_SHORTER = "title not shorter than the body"


def short_body(min_body_chars: int) -> str:
    """The skip reason of a body below the minimum (a count key, so it names the minimum)."""
    return f"body shorter than {min_body_chars} characters"


def clean_title(title: str) -> str:
    """The title as a summary: leading reply/forward prefixes removed, whitespace runs collapsed to one space."""
    return " ".join(_REPLY_PREFIX.sub("", title).split())


def headline_records(
    *,
    documents: Iterable[Document],
    report: RecordReport,
    user_ids: Collection[str] | None = None,
    min_body_chars: int = 100,
    max_records: int | None = None,
) -> Iterator[dict[str, str]]:
    """Document/summary records of the titled documents, each skipped document counted in `report` by reason.

    `user_ids` keeps only those users' documents (e.g. the training users); reading stops once `max_records` are
    kept. Ids are `user_id/doc_id`, unique like the prepared examples' ids. Arguments are checked here, before any
    document is read or any file opened.
    """
    if max_records is not None and max_records < 1:
        raise ValueError(f"max_records must be at least 1 (or None for all), got {max_records}")
    return _records(documents=documents, report=report, user_ids=user_ids, min_body_chars=min_body_chars,
                    max_records=max_records)


def _records(*, documents: Iterable[Document], report: RecordReport, user_ids: Collection[str] | None,
             min_body_chars: int, max_records: int | None) -> Iterator[dict[str, str]]:
    for document in documents:
        report.read += 1
        body = document.body.strip()
        summary = clean_title(document.title or "")
        if user_ids is not None and document.user_id not in user_ids:
            report.drop(NOT_SELECTED)
        elif not document.title:
            report.drop(NO_TITLE)
        elif not summary:
            report.drop(EMPTY_TITLE)
        elif len(body) < min_body_chars:
            report.drop(short_body(min_body_chars))
        elif len(summary) >= len(body):
            report.drop(TITLE_NOT_SHORTER)
        else:
            report.kept += 1
            yield {"id": f"{document.user_id}/{document.doc_id}", "document": body, "summary": summary}
            if report.kept == max_records:
                return


def write_headline_corpus(
    *,
    documents: Iterable[Document],
    output_path: str,
    source: str,
    user_ids: Collection[str] | None = None,
    min_body_chars: int = 100,
    max_records: int | None = None,
) -> RecordReport:
    """Writes the records as JSONL (atomically: a reader never sees a partial file); returns the counts."""
    report = RecordReport(source=source)
    records = headline_records(documents=documents, report=report, user_ids=user_ids, min_body_chars=min_body_chars,
                               max_records=max_records)
    os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
    write_jsonl_atomically(output_path, records)
    return report


def write_prepared_headline_corpus(
    *,
    prepared_dir: str,
    output_path: str,
    min_body_chars: int = 100,
    max_records: int | None = None,
) -> RecordReport:
    """The headline corpus of a prepared dataset's training-only users (every document of theirs, targets or not)."""
    prepared = PreparedDataset(prepared_dir)
    users = training_only_users(prepared=prepared)
    if not users:
        raise ValueError(f"{prepared_dir} has no training-only users (a temporal split holds every user out), "
                         "so no headline corpus can be built from it without held-out users' text")
    return write_headline_corpus(documents=prepared.documents(), output_path=output_path,
                                 source=f"{prepared_dir} (training users)", user_ids=users,
                                 min_body_chars=min_body_chars, max_records=max_records)
