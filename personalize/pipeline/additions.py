"""Stage additions on disk: per-example summaries (stage 3) or keywords (stage 4) beside the ranked contexts.

An addition directory has the ranked dataset's shard layout (`{split}-SSSSS-of-NNNNN.jsonl`), one line per
example, `{"example_id": ..., "summary": "..."}` or `{"example_id": ..., "keywords": ["w1", ...]}`, and a
`manifest.json`: {"format": "personalize.addition/1", "field": "summary"|"keywords", "variant": NAME,
"shards": {split: [names]}}. The generation tasks join it to the ranked examples by example_id.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Iterator, Mapping, Sequence

from personalize.preparation.dataset import shard_name, write_json_atomically, write_jsonl_atomically

FORMAT = "personalize.addition/1"
MANIFEST = "manifest.json"
# The paper's variants and the field each one fills.
VARIANT_FIELDS = {"SumCtxInd": "summary", "SumCtx": "summary", "SynCtxInd": "keywords", "SynCtx": "keywords"}


def _check_value(*, field: str, value: Any, where: str) -> None:
    if field == "summary" and not isinstance(value, str):
        raise ValueError(f"{where}: 'summary' must be a string, got {type(value).__name__}")
    if field == "keywords" and not (isinstance(value, list) and all(isinstance(w, str) for w in value)):
        raise ValueError(f"{where}: 'keywords' must be a list of strings")


def write_addition(
    *, output_dir: str, variant: str, shards: Mapping[str, Sequence[Iterable[Mapping[str, Any]]]]
) -> dict[str, Any]:
    """Writes `shards[split][k]` (records with example_id and the variant's field) and the manifest.

    Give an addition the same number of shards as its ranked dataset, shard k for ranked shard k, so the
    generation tasks can join shard by shard.
    """
    if variant not in VARIANT_FIELDS:
        raise ValueError(f"unknown addition variant {variant!r}; known: {sorted(VARIANT_FIELDS)}")
    field = VARIANT_FIELDS[variant]
    os.makedirs(output_dir, exist_ok=True)
    manifest: dict[str, Any] = {"format": FORMAT, "field": field, "variant": variant, "shards": {}}
    for split, split_shards in shards.items():
        names = [shard_name(split, index, len(split_shards)) for index in range(len(split_shards))]
        for name, records in zip(names, split_shards):
            path = os.path.join(output_dir, name)
            checked = []
            for record in records:
                _check_value(field=field, value=record.get(field), where=f"{path}: example {record.get('example_id')!r}")
                checked.append({"example_id": str(record["example_id"]), field: record[field]})
            write_jsonl_atomically(path, checked)
        manifest["shards"][split] = names
    write_json_atomically(os.path.join(output_dir, MANIFEST), manifest)
    return manifest


class Addition:
    """Reads an addition directory; the manifest is checked so a partial or foreign directory fails clearly."""

    def __init__(self, path: str):
        self.path = os.fspath(path)
        manifest_path = os.path.join(self.path, MANIFEST)
        if not os.path.exists(manifest_path):
            raise FileNotFoundError(f"{self.path} is not a stage addition (no {MANIFEST})")
        with open(manifest_path, encoding="utf-8") as handle:
            self.manifest = json.load(handle)
        if self.manifest.get("format") != FORMAT:
            raise ValueError(f"{manifest_path}: format {self.manifest.get('format')!r}, expected {FORMAT!r}")
        self.variant: str = self.manifest["variant"]
        self.field: str = self.manifest["field"]
        if VARIANT_FIELDS.get(self.variant) != self.field:
            raise ValueError(f"{manifest_path}: variant {self.variant!r} with field {self.field!r} is not a known pair")

    def splits(self) -> list[str]:
        return sorted(self.manifest["shards"])

    def shard_paths(self, split: str) -> list[str]:
        if split not in self.manifest["shards"]:
            raise KeyError(f"{self.path}: no {split!r} shards; has {self.splits()}")
        return [os.path.join(self.path, name) for name in self.manifest["shards"][split]]

    def records(self, split: str, *, shard: int | None = None) -> Iterator[dict[str, Any]]:
        paths = self.shard_paths(split)
        for path in paths if shard is None else [paths[shard]]:
            with open(path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise ValueError(f"{path}:{number}: corrupt addition record ({error.msg})") from None
                    if "example_id" not in record or self.field not in record:
                        raise ValueError(f"{path}:{number}: needs 'example_id' and {self.field!r}")
                    yield record

    def values(self, split: str, *, shard: int | None = None) -> dict[str, Any]:
        """example_id -> summary (str) or keywords (list of str), for one split (or one shard of it)."""
        return {record["example_id"]: record[self.field] for record in self.records(split, shard=shard)}
