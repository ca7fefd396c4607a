"""What the compiled HLO text says that `cost_analysis` does not: loop trip counts and collective bytes.

XLA's cost analysis counts a while loop's body once, whatever its trip count; the microbatch `lax.scan` of a
train step is such a loop. The text of the compiled module names every while loop's body and, when XLA knows it,
its trip count (TPU's compiled text leaves it out: then a condition `counter < constant` gives it, the form a
`lax.scan` takes); a computation's multiplicity is the product of the trip counts of the loops around it.
"""

import re

_COMPUTATION = re.compile(r"^(ENTRY\s+)?%?([\w.\-]+)\s*\(.*\{\s*$")
_CALLEE = re.compile(r"\b(body|calls|to_apply)=%?([\w.\-]+)")
_TRIP_COUNT = re.compile(r'"known_trip_count":\{"n":"(\d+)"')
_CONDITION = re.compile(r"\bcondition=%?([\w.\-]+)")
_S32_CONSTANT = re.compile(r"=\s*s32\[\][^ ]*\s+constant\((\d+)\)")
_SHAPE = re.compile(r"\b(pred|s8|u8|s16|u16|s32|u32|s64|u64|f16|bf16|f32|f64|f8\w*)\[([\d,]*)\]")
_BYTES = {"pred": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "f16": 2, "bf16": 2, "s32": 4, "u32": 4, "f32": 4,
          "s64": 8, "u64": 8, "f64": 8}
# Synchronous collectives, and the `-done` half of asynchronous ones (its result is the transferred array).
_COLLECTIVE = re.compile(
    r"=\s*(.*?)\s(all-reduce|all-gather|reduce-scatter|all-to-all|collective-permute)(-done)?\(")


def _shape_bytes(text: str) -> int:
    total = 0
    for dtype, dims in _SHAPE.findall(text):
        count = 1
        for dim in filter(None, dims.split(",")):
            count *= int(dim)
        total += count * _BYTES.get(dtype, 1)
    return total


def _computations(hlo_text: str) -> tuple[list[str], dict[str, list[str]], str | None]:
    order: list[str] = []
    lines_of: dict[str, list[str]] = {}
    entry = None
    current = None
    for line in hlo_text.splitlines():
        header = _COMPUTATION.match(line.strip())
        if header and "=" not in line.split("(", 1)[0]:
            current = header.group(2)
            order.append(current)
            lines_of[current] = []
            if header.group(1):
                entry = current
            continue
        if current is not None:
            lines_of[current].append(line)
    return order, lines_of, entry


def _trip_count(line: str, lines_of: dict[str, list[str]]) -> int | None:
    """A while op's trip count: XLA's known_trip_count, or N from a condition whose root is `i < N` (constant)."""
    known = _TRIP_COUNT.search(line)
    if known:
        return int(known.group(1))
    condition = _CONDITION.search(line)
    body = lines_of.get(condition.group(1), []) if condition else []
    roots = [text for text in body if "ROOT" in text and "compare(" in text and "direction=LT" in text]
    constants = [int(n) for text in body for n in _S32_CONSTANT.findall(text)]
    return constants[0] if roots and len(constants) == 1 else None


def multiplicities(hlo_text: str) -> dict[str, int]:
    """How many times each computation runs per execution of the module (while bodies times their trip count)."""
    order, lines_of, entry = _computations(hlo_text)
    count = {name: 0 for name in order}
    if entry is None:
        return count
    count[entry] = 1
    # Callees are printed before their callers: walking the text backwards visits every caller first.
    for name in reversed(order):
        if not count[name]:
            continue
        for line in lines_of[name]:
            trip = _trip_count(line, lines_of) if " while(" in line else None
            for kind, callee in _CALLEE.findall(line):
                if callee in count:
                    count[callee] += count[name] * (trip if kind == "body" and trip else 1)
    return count


def loop_trip_counts(hlo_text: str) -> list[int]:
    """Trip counts of the module's while loops that have a known one, in text order."""
    _, lines_of, _ = _computations(hlo_text)
    trips = [_trip_count(line, lines_of) for lines in lines_of.values() for line in lines if " while(" in line]
    return [trip for trip in trips if trip is not None]


def collective_bytes(hlo_text: str) -> dict[str, int]:
    """Per-device bytes each kind of collective produces per execution, loops multiplied by their trip count."""
    order, lines_of, _ = _computations(hlo_text)
    runs = multiplicities(hlo_text)
    totals: dict[str, int] = {}
    for name in order:
        for line in lines_of[name]:
            match = _COLLECTIVE.search(line)
            if match and runs.get(name):
                kind = match.group(2)
                totals[kind] = totals.get(kind, 0) + _shape_bytes(match.group(1)) * runs[name]
    return totals
