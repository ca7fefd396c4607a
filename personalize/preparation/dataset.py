"""The prepared dataset on disk: JSONL shards the Beam and SeqIO stages read in parallel.

Layout of a prepared directory:
  documents-SSSSS-of-NNNNN.jsonl   every kept document, a user's documents all in one shard
  {train,validation,test}-SSSSS-of-NNNNN.jsonl   examples, sharded by user like the documents
  manifest.json   shard lists, counts, and the preparation settings
  statistics.{md,json}   the paper's Table 1 for this corpus
Shards are written to a temporary name and renamed, so a reader never sees a half-written shard.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
from typing import Any, Iterable, Iterator

from personalize.corpus.document import Document
from personalize.corpus.readers import iter_stage_records
from personalize.preparation.example import Example
from personalize.preparation.splits import SPLITS

MANIFEST = "manifest.json"


def shard_of(user_id: str, num_shards: int) -> int:
    return int(hashlib.md5(user_id.encode("utf-8")).hexdigest(), 16) % num_shards


def shard_name(prefix: str, index: int, num_shards: int) -> str:
    return f"{prefix}-{index:05d}-of-{num_shards:05d}.jsonl"


def write_jsonl_atomically(path: str, records: Iterable[dict[str, Any]]) -> int:
    """Writes `records` to a temporary file renamed to `path` at the end; when they raise, nothing is left."""
    temporary = f"{path}.tmp-{os.getpid()}"
    count = 0
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                count += 1
    except BaseException:
        with contextlib.suppress(FileNotFoundError):  # open() itself may have failed
            os.remove(temporary)
        raise
    os.replace(temporary, path)
    return count


def write_json_atomically(path: str, value: Any) -> None:
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=1, ensure_ascii=False, sort_keys=True)
        handle.write("\n")
    os.replace(temporary, path)


def write_prepared_dataset(
    *,
    output_dir: str,
    documents_by_user: dict[str, list[Document]],
    examples: list[Example],
    num_shards: int,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Writes document and example shards and the manifest; returns the manifest."""
    os.makedirs(output_dir, exist_ok=True)
    document_shards: list[list[dict]] = [[] for _ in range(num_shards)]
    for user_id in sorted(documents_by_user):
        document_shards[shard_of(user_id, num_shards)] += [d.to_json() for d in documents_by_user[user_id]]
    example_shards = {split: [[] for _ in range(num_shards)] for split in SPLITS}
    for example in sorted(examples, key=lambda e: (e.user_id, e.timestamp, e.doc_id)):
        example_shards[example.split][shard_of(example.user_id, num_shards)].append(example.to_json())
    manifest: dict[str, Any] = {"format": "personalize.prepared/1", "num_shards": num_shards, "settings": settings,
                                "shards": {}, "counts": {}}
    for prefix, shards in [("documents", document_shards)] + [(s, example_shards[s]) for s in SPLITS]:
        names = [shard_name(prefix, i, num_shards) for i in range(num_shards)]
        manifest["counts"][prefix] = sum(
            write_jsonl_atomically(os.path.join(output_dir, name), records) for name, records in zip(names, shards)
        )
        manifest["shards"][prefix] = names
    write_json_atomically(os.path.join(output_dir, MANIFEST), manifest)
    return manifest


class PreparedDataset:
    """Reads a prepared directory; checks the manifest so a partial directory fails clearly."""

    def __init__(self, path: str):
        self.path = os.fspath(path)
        manifest_path = os.path.join(self.path, MANIFEST)
        if not os.path.exists(manifest_path):
            raise FileNotFoundError(
                f"{self.path} is not a prepared dataset (no {MANIFEST}); run `personalize prepare` first"
            )
        with open(manifest_path, encoding="utf-8") as handle:
            self.manifest = json.load(handle)

    def shard_paths(self, prefix: str) -> list[str]:
        if prefix not in self.manifest["shards"]:
            raise KeyError(f"{self.path}: no shards named {prefix!r}; known: {sorted(self.manifest['shards'])}")
        return [os.path.join(self.path, name) for name in self.manifest["shards"][prefix]]

    def examples(self, split: str, *, shard: int | None = None) -> Iterator[Example]:
        paths = self.shard_paths(split)
        for path in paths if shard is None else [paths[shard]]:
            for record in iter_stage_records(path, kind="prepared"):
                yield Example.from_json(record)

    def documents(self, *, shard: int | None = None) -> Iterator[Document]:
        paths = self.shard_paths("documents")
        for path in paths if shard is None else [paths[shard]]:
            for record in iter_stage_records(path, kind="prepared"):
                yield Document.from_json(record)

    def documents_by_user(self) -> dict[str, list[Document]]:
        grouped: dict[str, list[Document]] = {}
        for document in self.documents():
            grouped.setdefault(document.user_id, []).append(document)
        return grouped


def find_shards(pattern: str) -> list[str]:
    paths = sorted(glob.glob(pattern))
    if not paths:
        raise FileNotFoundError(f"no files match {pattern}")
    return paths
