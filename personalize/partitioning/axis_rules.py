"""The one table that maps logical axis names to the ('data', 'model') mesh.

Rules are priority ordered, as flax resolves them: for each array, the first rule whose mesh axis is still free
claims a dimension. That ordering is what lets `embed` go to `model` for activations (2-D activation
partitioning) while a kernel `[embed, mlp]` keeps `mlp` on `model`, and `embed` go to `data` for parameters
(2-D parameter partitioning) while activations keep `batch` on `data`.
"""

from collections.abc import Iterable, Sequence

LogicalAxisRules = tuple[tuple[str, str | None], ...]

DATA_AXIS = "data"
MODEL_AXIS = "model"

# (logical name, mesh axis); the model-parallel axes first so they win over the 2-D `embed` rules below.
_MODEL_PARALLEL_RULES: LogicalAxisRules = (
    ("batch", DATA_AXIS),
    ("vocab", MODEL_AXIS),
    ("mlp", MODEL_AXIS),
    ("heads", MODEL_AXIS),
    ("kv", None),
    ("joined_kv", MODEL_AXIS),
)
_ACTIVATION_2D_RULES: LogicalAxisRules = (("embed", MODEL_AXIS),)
_PARAMETER_2D_RULES: LogicalAxisRules = (("embed", DATA_AXIS),)
_REPLICATED_RULES: LogicalAxisRules = (
    ("embed", None),
    ("length", None),
    ("relpos_buckets", None),
    ("abspos_buckets", None),
    ("layers", None),
    ("stack", None),
    ("mlp_activations", None),
)


def standard_logical_axis_rules(
    *,
    parameter_partitioning_dims: int = 1,
    activation_partitioning_dims: int = 1,
    additional_rules: Sequence[Sequence[str | None]] = (),
) -> LogicalAxisRules:
    """T5X's standard rules: 1-D by default; 2 adds `embed` on `data` (parameters) or on `model` (activations)."""
    for name, dims in (
        ("parameter_partitioning_dims", parameter_partitioning_dims),
        ("activation_partitioning_dims", activation_partitioning_dims),
    ):
        if dims not in (1, 2):
            raise ValueError(f"{name} must be 1 or 2, got {dims!r}")
    rules = list(_MODEL_PARALLEL_RULES)
    if activation_partitioning_dims == 2:
        rules.extend(_ACTIVATION_2D_RULES)
    if parameter_partitioning_dims == 2:
        rules.extend(_PARAMETER_2D_RULES)
    rules.extend(_REPLICATED_RULES)
    for rule in additional_rules:
        if len(rule) != 2:
            raise ValueError(f"an axis rule is a (logical name, mesh axis) pair, got {rule!r}")
        rules.append((rule[0], rule[1]))
    return tuple(rules)


def check_rules_cover(*, names: Iterable[str], rules: LogicalAxisRules) -> None:
    """Fail on a logical name no rule mentions: flax would silently replicate that dimension."""
    known = {name for name, _ in rules}
    missing = sorted({name for name in names if name is not None} - known)
    if missing:
        raise ValueError(f"logical axis names without a partitioning rule: {missing}; add them to the rules")
