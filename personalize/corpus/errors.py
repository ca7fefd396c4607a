"""Bad input is named precisely and never dropped without being counted."""

from __future__ import annotations

import collections
import dataclasses


class BadRecordError(ValueError):
    """A record that cannot be turned into a document: says which file, line and field, and why."""

    def __init__(self, *, path: str, line: int | None, reason: str, field: str | None = None, detail: str | None = None):
        self.path = path
        self.line = line
        self.field = field
        self.reason = reason
        self.detail = detail
        where = f"{path}:{line}" if line is not None else path
        what = f" field {field!r}:" if field else ""
        more = f" ({detail})" if detail else ""
        super().__init__(f"{where}:{what} {reason}{more}")

    @property
    def kind(self) -> str:
        """The reason as a count key: field and reason, without the record's own values (`detail`)."""
        return f"{self.field}: {self.reason}" if self.field else self.reason


@dataclasses.dataclass
class RecordReport:
    """Counts in, out and skipped (with the reason) for one loader or stage run.

    With `skip_bad=False` (the default everywhere) the first bad record raises its
    `BadRecordError`; with `skip_bad=True` it is counted under its reason instead.
    """

    source: str
    skip_bad: bool = False
    read: int = 0
    kept: int = 0
    skipped: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    first_example: dict = dataclasses.field(default_factory=dict)

    def bad(self, error: BadRecordError) -> None:
        if not self.skip_bad:
            raise error
        self.skipped[error.kind] += 1
        self.first_example.setdefault(error.kind, str(error))

    def drop(self, reason: str) -> None:
        """A well-formed record that a rule leaves out (e.g. a `[deleted]` author)."""
        self.skipped[reason] += 1

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    def merge(self, other: "RecordReport") -> None:
        self.read += other.read
        self.kept += other.kept
        self.skipped.update(other.skipped)
        for kind, example in other.first_example.items():
            self.first_example.setdefault(kind, example)

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "read": self.read,
            "kept": self.kept,
            "skipped": dict(self.skipped),
            "first_example": dict(self.first_example),
        }

    def format(self) -> str:
        lines = [f"{self.source}: {self.read} records read, {self.kept} kept, {self.total_skipped} skipped"]
        for kind, count in self.skipped.most_common():
            example = self.first_example.get(kind)
            lines.append(f"  skipped {count:>7} x {kind}" + (f"  (first: {example})" if example else ""))
        return "\n".join(lines)
