"""A tiny prepared dataset, its ranked contexts and stage additions, written in the documented formats.

Users u0..u5 are training users, v0 validation, t0 test; every user writes five documents at t = 1..5 (days)
and documents 3..5 are examples (two earlier documents each). Document 1 of each user is short (< 300 chars).
"""

from __future__ import annotations

import json
import os

from personalize.corpus.document import Document
from personalize.pipeline.additions import write_addition
from personalize.preparation.dataset import shard_name, write_prepared_dataset
from personalize.preparation.example import Example
from personalize.preparation.immediate_context import immediate_context

STRATEGIES = ("RecentDoc", "RankDocBM25", "RankDocDense", "RankSnippet", "RankDocBySnpt")
USERS = {"u0": "train", "u1": "train", "u2": "train", "u3": "train", "u4": "train", "u5": "train",
         "v0": "validation", "t0": "test"}
WORDS = ["river", "garden", "engine", "letter", "market", "winter", "silver", "castle", "pencil", "orange",
         "bridge", "planet", "window", "forest", "rocket", "butter"]
DAY = 86400.0
NUM_SHARDS = 2


def body(user: str, index: int) -> str:
    words = [WORDS[(sum(map(ord, user)) * 7 + index * 3 + k) % len(WORDS)] for k in range(60 if index > 1 else 10)]
    return f"{user} doc {index}: " + " ".join(words) + "."


def documents() -> dict[str, list[Document]]:
    return {
        user: [Document(user_id=user, doc_id=f"{user}-d{i}", timestamp=i * DAY, body=body(user, i),
                        title=f"title {user} {i}" if i % 2 else None) for i in range(1, 6)]
        for user in USERS
    }


def examples() -> list[Example]:
    result = []
    for user, docs in documents().items():
        for position in range(2, 5):
            doc = docs[position]
            result.append(Example(
                example_id=f"{user}-e{position}", user_id=user, doc_id=doc.doc_id, timestamp=doc.timestamp,
                title=doc.title, target=doc.body,
                immediate_context=immediate_context(title=doc.title, body=doc.body, num_chars=150),
                context_doc_ids=tuple(d.doc_id for d in docs[:position]), split=USERS[user]))
    return result


def write_prepared(path: str) -> str:
    write_prepared_dataset(output_dir=path, documents_by_user=documents(), examples=examples(),
                           num_shards=NUM_SHARDS, settings={"name": "tiny"})
    return path


def context_text(strategy: str, example: Example) -> str:
    return f"[{strategy}] " + " | ".join(reversed(example.context_doc_ids))


def write_ranked(path: str, *, strategies=STRATEGIES) -> str:
    """Ranked shards with the prepared dataset's shard of each user (so additions can join shard by shard)."""
    from personalize.preparation.dataset import shard_of

    os.makedirs(path, exist_ok=True)
    shards: dict[str, list[list[dict]]] = {split: [[] for _ in range(NUM_SHARDS)] for split in ("train", "validation", "test")}
    for example in examples():
        contexts = {s: {"entry_ids": list(reversed(example.context_doc_ids)), "scores": [1.0] * len(example.context_doc_ids),
                        "text": context_text(s, example)} for s in strategies}
        shards[example.split][shard_of(example.user_id, NUM_SHARDS)].append({
            "example_id": example.example_id, "user_id": example.user_id, "doc_id": example.doc_id,
            "split": example.split, "title": example.title, "immediate_context": example.immediate_context,
            "target": example.target, "contexts": contexts})
    manifest = {"format": "personalize.ranked/1", "strategies": list(strategies), "num_shards": NUM_SHARDS,
                "shards": {}, "settings": {}}
    for split, split_shards in shards.items():
        names = [shard_name(split, i, NUM_SHARDS) for i in range(NUM_SHARDS)]
        for name, records in zip(names, split_shards):
            with open(os.path.join(path, name), "w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r) + "\n" for r in records)
        manifest["shards"][split] = names
    with open(os.path.join(path, "manifest.json"), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle)
    return path


def summary_of(variant: str, example_id: str) -> str:
    return f"{variant} summary of {example_id}"


def keywords_of(variant: str, example_id: str) -> list[str]:
    return [f"{variant.lower()}", example_id.split("-")[0], "river"]


def write_additions(root: str, *, variants=("SumCtxInd", "SumCtx", "SynCtxInd", "SynCtx"), skip_train=()) -> dict[str, str]:
    """variant -> directory; `skip_train` example ids get no value (as for the summarizer's own half)."""
    from personalize.preparation.dataset import shard_of

    paths = {}
    for variant in variants:
        shards: dict[str, list[list[dict]]] = {s: [[] for _ in range(NUM_SHARDS)] for s in ("train", "validation", "test")}
        for example in examples():
            if example.split == "train" and example.example_id in skip_train:
                continue
            value = summary_of(variant, example.example_id) if variant.startswith("Sum") else keywords_of(variant, example.example_id)
            field = "summary" if variant.startswith("Sum") else "keywords"
            shards[example.split][shard_of(example.user_id, NUM_SHARDS)].append({"example_id": example.example_id, field: value})
        paths[variant] = os.path.join(root, variant)
        write_addition(output_dir=paths[variant], variant=variant, shards=shards)
    return paths
