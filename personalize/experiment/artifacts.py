"""Artifacts keyed by a hash of their configuration: a repeated run reuses them, an interrupted one continues."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from typing import Any, Callable

from personalize.console import format_duration

DONE = "DONE.json"


def config_hash(config: Any) -> str:
    """A stable short hash of a JSON-able configuration (key order does not matter)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class ArtifactStore:
    """`root/<stage>-<hash>/` per artifact; `DONE.json` (its configuration) is written only on success."""

    def __init__(self, root: str, *, log: Callable[[str], None] = print):
        self.root = root
        self.log = log
        os.makedirs(root, exist_ok=True)

    def path(self, stage: str, config: Any) -> str:
        return os.path.join(self.root, f"{stage}-{config_hash(config)}")

    def is_done(self, stage: str, config: Any) -> bool:
        return os.path.exists(os.path.join(self.path(stage, config), DONE))

    def build(self, stage: str, config: Any, make: Callable[[str], Any], *, resumable: bool = False) -> str:
        """Returns the artifact's directory, running `make(directory)` unless it is already complete.

        A non-resumable stage that was interrupted is started again from an empty directory; a resumable
        one (training, which restores its own checkpoints) continues in place. The log shows a build's header,
        "[stage] building DIRECTORY", and its wall time, "[stage] built in 41s".
        """
        directory = self.path(stage, config)
        if self.is_done(stage, config):
            self.log(f"[{stage}] reusing {directory}")
            return directory
        if os.path.isdir(directory) and not resumable:
            shutil.rmtree(directory)
        os.makedirs(directory, exist_ok=True)
        self.log(f"[{stage}] building {directory}")
        started = time.perf_counter()
        make(directory)
        with open(os.path.join(directory, DONE), "w", encoding="utf-8") as handle:
            json.dump({"stage": stage, "config": config}, handle, indent=1, sort_keys=True, default=str)
        self.log(f"[{stage}] built in {format_duration(time.perf_counter() - started)}")
        return directory
