"""x_t: what the user has written so far (the paper's immediate context)."""

from __future__ import annotations


def immediate_context(*, title: str | None, body: str, num_chars: int = 150) -> str:
    """The title (if any) followed by the first `num_chars` characters of the body."""
    start = body[:num_chars]
    return f"{title.strip()}\n{start}" if title and title.strip() else start
