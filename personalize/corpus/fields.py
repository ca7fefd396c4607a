"""Typed field access for loaders: every failure names the field, so errors can name file and line."""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Any, Mapping


class FieldError(ValueError):
    """A missing or mistyped field; loaders turn it into a `BadRecordError` with file and line."""

    def __init__(self, field: str, reason: str, detail: str | None = None):
        self.field = field
        self.reason = reason
        self.detail = detail
        super().__init__(f"field {field!r}: {reason}" + (f" ({detail})" if detail else ""))


def get_path(record: Mapping[str, Any], field: str) -> Any:
    """Looks up `field`, where dots walk into nested objects (`meta.author`)."""
    value: Any = record
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise FieldError(field, "missing")
        value = value[part]
    return value


def require_text(record: Mapping[str, Any], field: str, *, allow_empty: bool = False) -> str:
    value = get_path(record, field)
    if value is None:
        raise FieldError(field, "missing (null)")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise FieldError(field, f"expected text, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise FieldError(field, "empty")
    return value


def optional_text(record: Mapping[str, Any], field: str | None) -> str | None:
    if not field:
        return None
    try:
        value = get_path(record, field)
    except FieldError:
        return None
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(field, f"expected text, got {type(value).__name__}")
    return value.strip() or None


_TIMESTAMP_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def parse_timestamp(value: Any, *, field: str, unit: str = "s", fmt: str | None = None) -> float:
    """Seconds since the epoch (UTC) from a number, an ISO-8601 / RFC-2822 string, or `fmt` (strptime).

    Naive datetimes are taken as UTC so that the order of a user's documents never depends on the
    machine's time zone.
    """
    if value is None:
        raise FieldError(field, "missing (null)")
    if isinstance(value, bool):
        raise FieldError(field, "expected a timestamp, got a boolean")
    if isinstance(value, (int, float)):
        if unit not in _TIMESTAMP_UNITS:
            raise ValueError(f"timestamp unit must be one of {sorted(_TIMESTAMP_UNITS)}, got {unit!r}")
        return float(value) * _TIMESTAMP_UNITS[unit]
    if not isinstance(value, str):
        raise FieldError(field, f"expected a timestamp, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise FieldError(field, "empty timestamp")
    parsed: dt.datetime | None = None
    if fmt:
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            raise FieldError(field, "unparseable date", f"{text!r}, expected format {fmt!r}") from None
    else:
        try:
            return float(text) * _TIMESTAMP_UNITS.get(unit, 1.0)
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                parsed = None
        if parsed is None:
            raise FieldError(field, "unparseable date", repr(text))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()
