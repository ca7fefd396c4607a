"""The generation model's input text (paper, stage 5): the instruction, then prefixed fields in a fixed order.

  "Finish the passage in the user voice. passage start: {x_t} summary: {summary} important words: {w1, w2}
   past passages: {ranked entries}"
Each field is present only when the experiment row uses it; UserID puts "user id: {id}" before the passage start.
"""

from __future__ import annotations

from typing import Sequence

INSTRUCTION = "Finish the passage in the user voice."


def generation_input(
    *,
    immediate_context: str,
    user_id: str | None = None,
    summary: str | None = None,
    keywords: Sequence[str] | None = None,
    past_passages: str | None = None,
) -> str:
    """The input string; a field given as None is left out (an empty string or list is kept, empty)."""
    parts = [INSTRUCTION]
    if user_id is not None:
        parts.append(f"user id: {user_id}")
    parts.append(f"passage start: {immediate_context}")
    if summary is not None:
        parts.append(f"summary: {summary}")
    if keywords is not None:
        parts.append(f"important words: {', '.join(keywords)}")
    if past_passages is not None:
        parts.append(f"past passages: {past_passages}")
    return " ".join(parts)
