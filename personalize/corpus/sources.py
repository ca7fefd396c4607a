"""Named corpus formats, so the CLI and gin can say `--format=amazon` instead of importing a loader."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Iterator, Sequence

from personalize.corpus.document import Document
from personalize.corpus.errors import RecordReport
from personalize.corpus.loaders.jsonl import FieldMapping, load_jsonl

# format name -> (module, function) of its loader; imported on use so unused formats cost nothing.
LOADERS: dict[str, tuple[str, str]] = {
    "jsonl": ("personalize.corpus.loaders.jsonl", "load_jsonl"),
    "amazon": ("personalize.corpus.loaders.amazon", "load_amazon"),
    "reddit": ("personalize.corpus.loaders.reddit", "load_reddit"),
    "email": ("personalize.corpus.loaders.email", "load_email"),
    "longlamp": ("personalize.corpus.loaders.longlamp", "load_longlamp"),
    "lamp": ("personalize.corpus.loaders.lamp", "load_lamp"),
}


def load_documents(
    *,
    format: str,
    paths: Sequence[str],
    report: RecordReport,
    fields: str | None = None,
    options: dict[str, Any] | None = None,
) -> Iterator[Document]:
    """Streams documents of `paths` in the named format; `fields` is the JSONL field mapping."""
    if format == "demo":
        from personalize.corpus.demo_corpus import generate_demo_corpus

        for document in generate_demo_corpus(**(options or {})):
            report.read += 1
            report.kept += 1
            yield document
        return
    if format not in LOADERS:
        raise ValueError(f"unknown corpus format {format!r}; known: demo, {', '.join(sorted(LOADERS))}")
    if not paths:
        raise ValueError(f"format {format!r} needs at least one input path")
    if format == "jsonl":
        if not fields:
            raise ValueError("format 'jsonl' needs a field mapping, e.g. fields='user_id=author,body=text,timestamp=date'")
        yield from load_jsonl(paths, fields=FieldMapping.parse(fields), report=report)
        return
    module, name = LOADERS[format]
    loader: Callable[..., Iterator[Document]] = getattr(importlib.import_module(module), name)
    yield from loader(paths, report=report, **(options or {}))
