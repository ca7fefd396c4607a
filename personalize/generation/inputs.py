"""The generation model's input text (paper, stage 5): the instruction, then prefixed fields in a fixed order.

  "Finish the passage in the user voice. passage start: {x_t} summary: {summary} important words: {w1, w2}
   past passages: {ranked entries}"
Each field is present only when the experiment row uses it; UserID puts "user id: {id}" before the passage start.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

INSTRUCTION = "Finish the passage in the user voice."
# The prefixes in rendering order; each follows the previous field after one space.
_PREFIXES = (("user_id", "user id: "), ("immediate_context", "passage start: "), ("summary", "summary: "),
             ("keywords", "important words: "), ("past_passages", "past passages: "))


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


@dataclasses.dataclass(frozen=True)
class GenerationInput:
    """The fields of one rendered input; None where the row leaves the field out."""

    immediate_context: str
    user_id: str | None = None
    summary: str | None = None
    keywords: tuple[str, ...] | None = None
    past_passages: str | None = None


def parse_generation_input(text: str) -> GenerationInput:
    """The fields `generation_input` rendered into `text`, for metrics that need x_t and the past passages back.

    Fields are cut at the first later prefix that follows, in rendering order, so a field whose own text holds a
    later field's prefix (" summary: ", " important words: ", " past passages: ") is cut there: the rendering
    cannot tell the two apart. The past passages come last and may hold anything. Keywords are split on ", ".
    """
    if not text.startswith(INSTRUCTION + " "):
        raise ValueError(f"not a generation input (it does not start with {INSTRUCTION!r}): {text[:80]!r}")
    rest = text[len(INSTRUCTION) + 1 :]
    fields: dict[str, str] = {}
    for index, (name, prefix) in enumerate(_PREFIXES):
        if not rest.startswith(prefix):
            if name == "immediate_context":
                raise ValueError(f"generation input without 'passage start: ': {text[:80]!r}")
            continue
        rest = rest[len(prefix) :]
        ends = [rest.find(" " + later) for _, later in _PREFIXES[index + 1 :]]
        end = min((e for e in ends if e >= 0), default=len(rest))
        fields[name], rest = rest[:end], rest[end + 1 :]
    keywords = fields.pop("keywords", None)
    if keywords is not None:
        fields["keywords"] = tuple(keywords.split(", ")) if keywords else ()
    return GenerationInput(**fields)
