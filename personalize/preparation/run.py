"""The `prepare` stage: load a corpus, apply the paper's preparation, write shards and Table 1."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Callable, Sequence

from personalize.corpus.errors import RecordReport
from personalize.corpus.sources import load_documents
from personalize.preparation.dataset import write_json_atomically, write_prepared_dataset
from personalize.preparation.prepare import PreparedCorpus, prepare_corpus
from personalize.preparation.statistics import format_table1, table1_statistics


def prepare_dataset(
    *,
    name: str,
    format: str,
    output_dir: str,
    paths: Sequence[str] = (),
    fields: str | None = None,
    loader_options: dict[str, Any] | None = None,
    skip_bad: bool = False,
    num_shards: int = 4,
    prepare: Callable[..., PreparedCorpus] = prepare_corpus,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> dict[str, Any]:
    """Runs preparation end to end and returns the Table 1 statistics (also written beside the data).

    The format, input files and JSONL field mapping are checked first (personalize/preflight.py): a PreflightError
    lists every problem before anything is read or written."""
    from personalize.preflight import corpus_problems, raise_problems

    raise_problems(corpus_problems(format=format, paths=paths, fields=fields))
    started = time.perf_counter()
    report = RecordReport(source=", ".join(paths) or format, skip_bad=skip_bad)
    documents = load_documents(format=format, paths=paths, report=report, fields=fields, options=loader_options)
    corpus = prepare(documents)
    log(report.format())
    log(corpus.report.format())
    manifest = write_prepared_dataset(
        output_dir=output_dir,
        documents_by_user=corpus.documents_by_user,
        examples=corpus.examples,
        num_shards=num_shards,
        settings={"name": name, "format": format, "paths": list(paths), "fields": fields, "skip_bad": skip_bad,
                  "loader_options": loader_options},
    )
    statistics = table1_statistics(corpus.examples)
    table = format_table1(name, statistics)
    write_json_atomically(
        os.path.join(output_dir, "statistics.json"),
        {"name": name, "table1": statistics, "load": report.to_json(), "preparation": corpus.report.to_json()},
    )
    with open(os.path.join(output_dir, "statistics.md"), "w", encoding="utf-8") as handle:
        handle.write(table + "\n")
    log(f"wrote {manifest['counts']} to {output_dir} in {time.perf_counter() - started:.1f}s")
    print(table)
    return statistics
