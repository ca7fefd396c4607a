"""Training and evaluation metrics to stdout, to MODEL_DIR/metrics.jsonl (one JSON object a line) and, when given a
summary writer, to TensorBoard event files in MODEL_DIR/<split>/."""

import dataclasses
import datetime
import json
import pathlib
import sys
import time
from collections.abc import Mapping
from typing import TextIO

import jax

from personalize.training.summaries import SummaryWriter


@dataclasses.dataclass
class MetricsLog:
    """Appends `{"step", "split", ...metrics}` lines (and TensorBoard scalars); only process 0 writes."""

    path: pathlib.Path | None
    stream: TextIO | None = None  # None: whatever sys.stdout is at the time of writing
    summaries: SummaryWriter | None = None

    def write(self, *, step: int, split: str, metrics: Mapping[str, float], note: str = "") -> None:
        if jax.process_index() != 0:
            return
        record = {"step": int(step), "split": split, **{k: float(v) for k, v in metrics.items()}}
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        if self.summaries is not None:
            self.summaries.scalars(split=split, step=step, metrics=metrics)
        shown = " ".join(f"{k}={_format(v)}" for k, v in metrics.items())
        print(f"[{split}] step {step} {shown}{' ' + note if note else ''}", file=self.stream or sys.stdout, flush=True)

    def message(self, text: str) -> None:
        if jax.process_index() == 0:
            print(text, file=self.stream or sys.stdout, flush=True)

    def text(self, *, step: int, split: str, tag: str, text: str) -> None:
        """A text summary (e.g. the gin config); TensorBoard only, the JSON lines stay numeric."""
        if jax.process_index() == 0 and self.summaries is not None and text:
            self.summaries.text(split=split, step=step, tag=tag, text=text)

    def close(self) -> None:
        if self.summaries is not None:
            self.summaries.close()


def _format(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"


@dataclasses.dataclass
class Progress:
    """Steps per second and time left, measured from the first logged step (so compilation is not counted)."""

    final_step: int
    _since: float | None = None
    _since_step: int = 0

    def note(self, *, step: int) -> str:
        now = time.perf_counter()
        if self._since is None:
            self._since, self._since_step = now, step
            return f"({step}/{self.final_step})"
        rate = (step - self._since_step) / max(now - self._since, 1e-9)
        left = datetime.timedelta(seconds=round((self.final_step - step) / rate)) if rate > 0 else "?"
        return f"({step}/{self.final_step}, {rate:.3g} steps/s, eta {left})"
