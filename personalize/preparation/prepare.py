"""The paper's preparation (PAPER.md, "Data preparation"), as a pure function of the documents."""

from __future__ import annotations

import collections
import dataclasses
from typing import Iterable, Sequence

from personalize.corpus.document import Document
from personalize.preparation.deduplicate import deduplicate_user_documents
from personalize.preparation.example import Example
from personalize.preparation.immediate_context import immediate_context
from personalize.preparation.splits import SPLITS, choose_examples, split_by_time, split_users

SPLIT_MODES = ("user", "temporal")


@dataclasses.dataclass
class PreparationReport:
    """Counts for every rule, so nothing is dropped without being counted."""

    documents_in: int = 0
    users_in: int = 0
    duplicates_removed: int = 0
    duplicate_doc_ids: int = 0
    documents_kept: int = 0
    not_target: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    users_dropped_few_examples: int = 0
    examples_dropped_with_users: int = 0
    examples_over_cap: int = 0
    users: dict = dataclasses.field(default_factory=lambda: {split: 0 for split in SPLITS})
    examples: dict = dataclasses.field(default_factory=lambda: {split: 0 for split in SPLITS})

    def to_json(self) -> dict:
        record = dataclasses.asdict(self)
        record["not_target"] = dict(self.not_target)
        return record

    def format(self) -> str:
        lines = [
            f"documents in: {self.documents_in} from {self.users_in} users",
            f"  duplicates removed (same user, same title and body): {self.duplicates_removed}",
            f"  repeated document ids removed: {self.duplicate_doc_ids}",
            f"  documents kept (of users kept): {self.documents_kept}",
        ]
        for reason, count in sorted(self.not_target.items()):
            lines.append(f"  documents not used as a target, {reason}: {count}")
        lines += [
            f"  users dropped (too few examples): {self.users_dropped_few_examples}"
            f" with {self.examples_dropped_with_users} examples",
            f"  examples over the per-user cap: {self.examples_over_cap}",
            "examples per split: " + ", ".join(f"{s} {self.examples[s]} ({self.users[s]} users)" for s in SPLITS),
        ]
        return "\n".join(lines)


@dataclasses.dataclass
class PreparedCorpus:
    documents_by_user: dict[str, list[Document]]
    examples: list[Example]
    report: PreparationReport


def _unique_doc_ids(documents: list[Document]) -> tuple[list[Document], int]:
    seen: set[str] = set()
    kept = []
    for document in documents:
        if document.doc_id in seen:
            continue
        seen.add(document.doc_id)
        kept.append(document)
    return kept, len(documents) - len(kept)


def user_examples(
    documents: Sequence[Document],
    *,
    min_target_chars: int,
    min_past_documents: int,
    immediate_context_chars: int,
    not_target: collections.Counter,
) -> list[Example]:
    """Every eligible current document of one user (documents in time order), split left empty.

    A document is a target when its body is longer than `min_target_chars` and the user wrote at
    least `min_past_documents` documents strictly earlier (an equal timestamp is not earlier).
    """
    examples = []
    earlier_end = 0
    for index, document in enumerate(documents):
        while documents[earlier_end].timestamp < document.timestamp:
            earlier_end += 1
        if len(document.body) <= min_target_chars:
            not_target[f"body of {min_target_chars} characters or fewer"] += 1
            continue
        if earlier_end < min_past_documents:
            not_target[f"fewer than {min_past_documents} earlier documents"] += 1
            continue
        examples.append(
            Example(
                example_id=f"{document.user_id}/{document.doc_id}",
                user_id=document.user_id,
                doc_id=document.doc_id,
                timestamp=document.timestamp,
                title=document.title,
                target=document.body,
                immediate_context=immediate_context(title=document.title, body=document.body, num_chars=immediate_context_chars),
                context_doc_ids=tuple(d.doc_id for d in documents[:earlier_end]),
                split="",
            )
        )
    return examples


def prepare_corpus(
    documents: Iterable[Document],
    *,
    min_target_chars: int = 300,
    min_past_documents: int = 2,
    min_examples_per_user: int = 5,
    max_examples_per_user: int = 50,
    immediate_context_chars: int = 150,
    split_mode: str = "user",
    split_fractions: Sequence[float] = (0.85, 0.05, 0.10),
    seed: int = 0,
) -> PreparedCorpus:
    """Documents of many users in; the users kept, their examples and the split of each example out."""
    if split_mode not in SPLIT_MODES:
        raise ValueError(f"split_mode must be one of {SPLIT_MODES}, got {split_mode!r}")
    report = PreparationReport()
    grouped: dict[str, list[Document]] = collections.defaultdict(list)
    for document in documents:
        grouped[document.user_id].append(document)
        report.documents_in += 1
    report.users_in = len(grouped)

    kept_documents: dict[str, list[Document]] = {}
    kept_examples: dict[str, list[Example]] = {}
    for user_id in sorted(grouped):
        unique, duplicates = deduplicate_user_documents(grouped[user_id])
        unique, repeated_ids = _unique_doc_ids(unique)
        report.duplicates_removed += duplicates
        report.duplicate_doc_ids += repeated_ids
        examples = user_examples(
            unique,
            min_target_chars=min_target_chars,
            min_past_documents=min_past_documents,
            immediate_context_chars=immediate_context_chars,
            not_target=report.not_target,
        )
        if len(examples) < min_examples_per_user:
            report.users_dropped_few_examples += 1
            report.examples_dropped_with_users += len(examples)
            continue
        if len(examples) > max_examples_per_user:
            chosen = choose_examples([e.example_id for e in examples], limit=max_examples_per_user, seed=seed)
            report.examples_over_cap += len(examples) - len(chosen)
            examples = [e for e in examples if e.example_id in chosen]
        kept_documents[user_id] = unique
        kept_examples[user_id] = examples
        report.documents_kept += len(unique)

    final: list[Example] = []
    if split_mode == "user":
        assignment = split_users(kept_examples, fractions=split_fractions, seed=seed)
        for user_id, examples in kept_examples.items():
            final += [dataclasses.replace(e, split=assignment[user_id]) for e in examples]
            report.users[assignment[user_id]] += 1
    else:
        for user_id, examples in kept_examples.items():
            names = split_by_time(len(examples), fractions=split_fractions)
            final += [dataclasses.replace(e, split=name) for e, name in zip(examples, names)]
            for name in set(names):
                report.users[name] += 1
    for example in final:
        report.examples[example.split] += 1
    return PreparedCorpus(documents_by_user=kept_documents, examples=final, report=report)
