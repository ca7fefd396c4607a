"""The ranked-contexts directory written by the ranking stage, and its reader.

Layout:
  {train,validation,test}-SSSSS-of-NNNNN.jsonl   one example a line, sorted by example_id, a user's examples in
                                                 shard `shard_of(user_id, NNNNN)`
  manifest.json   {"format": "personalize.ranked/1", "strategies", "num_shards", "shards", "counts", "settings"},
                  written last: a directory without it is unfinished.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterator

from personalize.corpus.readers import iter_stage_records

FORMAT = "personalize.ranked/1"
MANIFEST = "manifest.json"


class RankedDataset:
    """Reads a ranked-contexts directory; fails clearly on a missing manifest, shard or corrupt line."""

    def __init__(self, path: str):
        self.path = os.fspath(path)
        manifest_path = os.path.join(self.path, MANIFEST)
        if not os.path.exists(manifest_path):
            raise FileNotFoundError(
                f"{self.path} is not a finished ranked-contexts directory (no {MANIFEST}); "
                "run `personalize rank` (again) to write it"
            )
        with open(manifest_path, encoding="utf-8") as handle:
            self.manifest: dict[str, Any] = json.load(handle)
        if self.manifest.get("format") != FORMAT:
            raise ValueError(f"{manifest_path}: format {self.manifest.get('format')!r}, expected {FORMAT!r}")

    @property
    def strategies(self) -> list[str]:
        return list(self.manifest["strategies"])

    @property
    def splits(self) -> list[str]:
        return list(self.manifest["shards"])

    def shard_paths(self, split: str) -> list[str]:
        if split not in self.manifest["shards"]:
            raise KeyError(f"{self.path}: no split {split!r}; known: {sorted(self.manifest['shards'])}")
        return [os.path.join(self.path, name) for name in self.manifest["shards"][split]]

    def examples(self, split: str, *, shard: int | None = None) -> Iterator[dict[str, Any]]:
        """The records of one split (or one of its shards), in file order."""
        paths = self.shard_paths(split)
        for path in paths if shard is None else [paths[shard]]:
            if not os.path.exists(path):
                raise FileNotFoundError(f"{path}: shard listed in {MANIFEST} is missing")
            yield from iter_stage_records(path, kind="ranked")
