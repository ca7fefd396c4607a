"""LaMP (arXiv 2304.11406): rebuild each question's user documents from its profile, plus the gold output.

LaMP publishes a questions file `[{"id", "input", "profile": [{..., "id", "date"}]}]` and an outputs
file `{"task": "LaMP_4", "golds": [{"id", "output"}]}` per split. LaMP publishes no user ids: each
question carries one user's profile, so a question is a user here, with `user_id = "<task>/<question
id>"`. Two questions of the same real author become two users (their profiles are not merged), which
keeps every question's context exactly what LaMP gives it.

Per question this loader yields the profile items (the user's earlier documents, dated by their own
`date`) and, when the outputs file is given, the current document: its body is the gold output (what
the user wrote and a model must produce), `metadata["input"]` the task prompt, and its timestamp one
second after the latest profile item, since LaMP's profiles precede the question (0 when no profile
item is valid: such a user has no other document to order against). Without an outputs
file (LaMP's test questions) only the profile documents are yielded.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterator, Mapping, Sequence

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport
from personalize.corpus.fields import FieldError, get_path, optional_text, parse_timestamp, require_text
from personalize.corpus.readers import iter_json_records, load_json_document

# Which profile field is the document body and which its title, per generation task. LaMP-1/2/3 are
# classification tasks whose profiles are not documents a user wrote in one voice, so they are absent.
PROFILE_FIELDS: Mapping[str, tuple[str, str | None]] = {
    "LaMP_4": ("text", "title"),  # news articles with their headlines
    "LaMP_5": ("abstract", "title"),  # papers: abstract with its title
    "LaMP_6": ("text", "title"),  # emails with their subjects (Avocado, not public)
    "LaMP_7": ("text", None),  # tweets
}

SPLITS = ("train", "dev", "test")
_SPLIT_ALIASES = {"train": "train", "dev": "dev", "val": "dev", "valid": "dev", "validation": "dev", "test": "test"}

def profile_item_error(*, path: str, line: int, index: int, error: FieldError) -> BadRecordError:
    """A bad profile item, counted under `profile[].<field>` whatever its position (kept in the detail)."""
    field = f"profile[].{error.field}" if error.field else "profile[]"
    detail = f"item {index}" + (f", {error.detail}" if error.detail else "")
    return BadRecordError(path=path, line=line, field=field, reason=error.reason, detail=detail)


def split_of(path: str, split: str | None) -> str:
    """`split` when given, else the split named in the file name (`dev_questions.json`, `train.jsonl`)."""
    if split is not None:
        if split not in _SPLIT_ALIASES:
            raise ValueError(f"split must be one of {sorted(_SPLIT_ALIASES)}, got {split!r}")
        return _SPLIT_ALIASES[split]
    tokens = [token for token in re.split(r"[^a-z]+", os.path.basename(path).lower()) if token in _SPLIT_ALIASES]
    if len(set(_SPLIT_ALIASES[token] for token in tokens)) != 1:
        raise ValueError(f"cannot tell the split of {path} from its name: pass split= (one of {', '.join(SPLITS)})")
    return _SPLIT_ALIASES[tokens[0]]


def _task_name(task: str) -> str:
    normal = task.strip().replace("-", "_").lower()
    for name in PROFILE_FIELDS:
        if name.lower() == normal:
            return name
    raise ValueError(f"LaMP task {task!r} is not a generation task this loader knows; expected one of {sorted(PROFILE_FIELDS)}")


def _load_golds(path: str, task: str | None) -> tuple[str, dict[str, str]]:
    """Reads an outputs file; any defect is fatal since every question of the split depends on it."""
    data = load_json_document(path)
    if not isinstance(data, dict):
        raise BadRecordError(path=path, line=None, reason="expected a JSON object", detail=f"got {type(data).__name__}")
    try:
        file_task = _task_name(require_text(data, "task"))
    except FieldError as error:
        raise BadRecordError(path=path, line=None, field=error.field, reason=error.reason, detail=error.detail) from None
    except ValueError:
        raise BadRecordError(path=path, line=None, field="task", reason="not a LaMP generation task", detail=repr(data["task"])) from None
    if task is not None and _task_name(task) != file_task:
        raise ValueError(f"task={task!r} but {path} holds {file_task}")
    golds = data.get("golds")
    if not isinstance(golds, list):
        raise BadRecordError(path=path, line=None, field="golds", reason="expected a list")
    outputs: dict[str, str] = {}
    for index, gold in enumerate(golds):
        field = f"golds[{index}]"
        if not isinstance(gold, dict):
            raise BadRecordError(path=path, line=None, field=field, reason="expected a JSON object", detail=f"got {type(gold).__name__}")
        try:
            outputs[require_text(gold, "id")] = require_text(gold, "output", allow_empty=True)
        except FieldError as error:
            raise BadRecordError(path=path, line=None, field=f"{field}.{error.field}", reason=error.reason, detail=error.detail) from None
    return file_task, outputs


def _as_list(paths: Any) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    return [os.fspath(path) for path in paths]


def load_lamp(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    report: RecordReport,
    outputs: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    task: str | None = None,
    split: str | None = None,
) -> Iterator[Document]:
    """Streams documents from LaMP questions files, joined by id with their outputs files.

    `outputs` pairs one-to-one with `paths`. The task comes from the outputs file or `task=`; the
    split from `split=` or the file name, and is kept in `metadata["split"]`. A bad profile item is
    skipped alone; a question without a gold output in a given outputs file is a bad record.
    """
    questions = _as_list(paths)
    answer_files = _as_list(outputs) if outputs is not None else [None] * len(questions)
    if len(answer_files) != len(questions):
        raise ValueError(f"{len(questions)} questions files but {len(answer_files)} outputs files")
    for path, answers in zip(questions, answer_files):
        record_split = split_of(path, split)
        if answers is not None:
            file_task, golds = _load_golds(answers, task)
        elif task is not None:
            file_task, golds = _task_name(task), None
        else:
            raise ValueError(f"cannot tell the LaMP task of {path}: pass outputs= or task=")
        yield from _question_documents(path=path, task=file_task, golds=golds, split=record_split, report=report)


def _question_documents(
    *, path: str, task: str, golds: dict[str, str] | None, split: str, report: RecordReport
) -> Iterator[Document]:
    body_field, title_field = PROFILE_FIELDS[task]
    for line, record in iter_json_records(path, report):
        try:
            question_id = require_text(record, "id")
            prompt = require_text(record, "input")
            profile = get_path(record, "profile")
            if not isinstance(profile, list):
                raise FieldError("profile", "expected a list", f"got {type(profile).__name__}")
            gold = None
            if golds is not None:
                if question_id not in golds:
                    raise FieldError("output", "no gold output with this question id in the outputs file")
                gold = golds[question_id]
        except FieldError as error:
            report.bad(BadRecordError(path=path, line=line, field=error.field, reason=error.reason, detail=error.detail))
            continue
        user_id = f"{task}/{question_id}"
        seen: set[str] = set()
        latest: float | None = None
        for index, item in enumerate(profile):
            try:
                if not isinstance(item, dict):
                    raise FieldError("", "expected a JSON object", f"got {type(item).__name__}")
                item_id = require_text(item, "id")
                body = require_text(item, body_field)
                title = optional_text(item, title_field)
                timestamp = parse_timestamp(get_path(item, "date"), field="date")
            except FieldError as error:
                report.bad(profile_item_error(path=path, line=line, index=index, error=error))
                continue
            if item_id in seen:
                report.drop("lamp: profile item repeated in its question")
                continue
            seen.add(item_id)
            latest = timestamp if latest is None else max(latest, timestamp)
            extra = {k: v for k, v in item.items() if k not in {"id", "date", body_field, title_field}}
            report.kept += 1
            yield Document(
                user_id=user_id,
                doc_id=f"{user_id}/{item_id}",
                timestamp=timestamp,
                body=body,
                title=title,
                metadata={**extra, "task": task, "split": split, "role": "profile", "question_id": question_id},
            )
        if gold is None:
            continue
        if not gold.strip():
            report.bad(BadRecordError(path=path, line=line, field="output", reason="empty"))
            continue
        report.kept += 1
        yield Document(
            user_id=user_id,
            doc_id=f"{user_id}/output",
            timestamp=(latest + 1.0) if latest is not None else 0.0,
            body=gold,
            title=None,
            metadata={"task": task, "split": split, "role": "output", "question_id": question_id, "input": prompt},
        )
