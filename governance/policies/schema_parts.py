"""The policy schema's vocabulary, limits and builders (`schema.py` assembles the document
from them): patterns, bounds on every list, and small functions that build one keyword each,
with the `x-` annotations the loader phrases errors from (see schema.py).
"""

from __future__ import annotations

from typing import Any

from governance.core.vocabulary import (
    APPROVER_ROLES,
    LINEAGE_FIELDS,
    LOWER_IS_BETTER_METRICS,
    PERFORMANCE_METRICS,
    READ_ONLY_ROLES,
    ROLES,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:governance:policy-schema:1"

#: Largest accepted policy source, in bytes (UTF-8).
MAX_POLICY_BYTES = 256 * 1024
#: Deepest accepted YAML nesting (a real policy needs about 7 levels).
MAX_NESTING_DEPTH = 32
#: Bounds of what a policy asks for, by what a team can have: each required approval is a
#: slot shown on every request page and filled by a distinct person (a count of 1e6 cost
#: 3 s and 136 MB per page before it was bounded).
MAX_APPROVAL_COUNT = 10
MAX_APPROVALS = 20  # approval entries per transition
MAX_GATES = 50  # gates per transition
MAX_LIST_ITEMS = 500  # any other list (models, features, licences, KPI rules)

#: Allowed transition keys, "src->dst" (forward moves only).
TRANSITIONS = (
    "draft->staging",
    "staging->production",
    "draft->production",
    "production->deprecated",
    "deprecated->archived",
    "staging->archived",
    "draft->archived",
)
TRANSITION_PAIRS = tuple(tuple(t.split("->")) for t in TRANSITIONS)

# Metric names, modes and options come from governance.core.vocabulary, which the gate
# functions use too, so the policy schema accepts exactly what the gates compute.

# Metrics with a natural 0..1 scale: their margins must stay within 1.
BOUNDED_PERFORMANCE_METRICS = tuple(m for m in PERFORMANCE_METRICS if m not in LOWER_IS_BETTER_METRICS)
REPRODUCIBILITY_FIELDS = LINEAGE_FIELDS
#: Groups a policy may bar from approving, on top of the requester and the version's author.
SOD_EXCLUSIONS = ("evidence_uploaders", "document_editors")
#: Columns of the predictions table that cannot be sensitive attributes.
PREDICTION_COLUMNS = ("y_true", "y_score", "y_pred", "baseline_score")
WELL_KNOWN_KPIS = ("ctr", "error_rate", "latency_p95_ms", "conversion_rate")
CANARY_CONDITIONS = ("relative_drop", "above", "below")

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,63}$"
GATE_ID_PATTERN = r"^[a-z0-9_-]{1,64}$"
KPI_PATTERN = r"^[a-z0-9_]{1,64}$"
SPDX_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,127}$"
MODEL_NAME_PATTERN = r"^\S(.{0,198}\S)?$"


# --------------------------------------------------------------------------- builders


def _text(description: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string"}
    if description:
        out["description"] = description
    return out


def _number(
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: float | None = None,
    exclusive_maximum: float | None = None,
    default: Any = None,
    integer: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer" if integer else "number"}
    if minimum is not None:
        out["minimum"] = minimum
    if exclusive_minimum is not None:
        out["exclusiveMinimum"] = exclusive_minimum
    if maximum is not None:
        out["maximum"] = maximum
    if exclusive_maximum is not None:
        out["exclusiveMaximum"] = exclusive_maximum
    if default is not None:
        out["default"] = default
    if description:
        out["description"] = description
    return out


def _probability(default: float | None = None, description: str | None = None) -> dict[str, Any]:
    return _number(minimum=0, maximum=1, default=default, description=description)


def _confidence() -> dict[str, Any]:
    return _number(
        minimum=0.5,
        maximum=0.999,
        default=0.95,
        description="Confidence level of the interval used by the pass rule.",
    )


def _boolean(default: bool, description: str) -> dict[str, Any]:
    return {"type": "boolean", "default": default, "description": description}


def _enum(values: tuple[str, ...], noun: str, **extra: Any) -> dict[str, Any]:
    return {"enum": list(values), "x-noun": noun, **extra}


def _subset(values: tuple[str, ...], noun: str, description: str, default_all: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "array",
        "items": _enum(values, noun),
        "minItems": 1,
        "maxItems": len(values),
        "uniqueItems": True,
        "description": description,
    }
    if default_all:
        out["default"] = list(values)
    return out


def _string_list(noun: str, description: str, **item_extra: Any) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "minLength": 1, "maxLength": 200, **item_extra},
        "minItems": 1,
        "uniqueItems": True,
        "description": description,
        "x-noun": noun,
    }


def _closed(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    """An object of these properties and no others, `required` of them present."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def _approver_role(never: str) -> dict[str, Any]:
    """A role that may fill an approval slot or accept a gate: never a read-only one
    (the refusal reads "{value} is a read-only role and can never <never>")."""
    return _enum(
        ROLES,
        "role",
        **{
            "x-expected": list(APPROVER_ROLES),
            "not": {"enum": list(READ_ONLY_ROLES)},
            "x-messages": {"not": "{value} is a read-only role and can never " + never},
        },
    )


def _forbidden(message: str) -> dict[str, Any]:
    """A property that must be absent in this context (explains why)."""
    return {"not": {}, "x-messages": {"not": message}}


def _exactly_one_of(*keys: str) -> dict[str, Any]:
    return {"x-exactly-one-of": list(keys), "oneOf": [{"required": [k]} for k in keys]}


def _when(prop: str, values: tuple[str, ...] | str, then: dict[str, Any]) -> dict[str, Any]:
    cond = {"const": values} if isinstance(values, str) else {"enum": list(values)}
    return {"if": {"properties": {prop: cond}, "required": [prop]}, "then": then}


def _threshold() -> dict[str, Any]:
    return _probability(0.5, "Score cut-off turning y_score into y_pred when the table has no y_pred.")


def _bootstrap_samples() -> dict[str, Any]:
    return _number(
        minimum=100,
        maximum=10000,
        default=1000,
        integer=True,
        description="Bootstrap resamples for the confidence interval.",
    )


def _seed() -> dict[str, Any]:
    return _number(minimum=0, maximum=2**32 - 1, default=0, integer=True, description="Bootstrap RNG seed.")


# What an inconclusive outcome (the data cannot tell) does to the request: `block` (the
# default) ends it like a failed gate; `{accept_by: ROLE}` lets a named person holding ROLE
# on the model accept it with a reason (docs/gates.md, "Inconclusive").
ON_INCONCLUSIVE_MODES = ("block",)
_ON_INCONCLUSIVE = {
    "default": "block",
    "description": (
        "block: an inconclusive gate blocks the request like a failed one; "
        "{accept_by: ROLE}: a person holding ROLE on the model may accept it with a reason."
    ),
    "if": {"not": {"type": "object"}},
    "then": {
        "enum": list(ON_INCONCLUSIVE_MODES),
        "x-noun": "on_inconclusive mode",
        "x-expected": ["block", "{accept_by: ROLE}"],
    },
    "else": _closed({"accept_by": _approver_role("accept a gate")}, ["accept_by"]),
}


def _gate(gate_type: str, properties: dict[str, Any], *, required: tuple[str, ...] = (), **extra):
    # id / type / description are validated by the common `gate` definition.
    props = {"id": True, "type": True, "description": True, "on_inconclusive": _ON_INCONCLUSIVE, **properties}
    out: dict[str, Any] = {
        "type": "object",
        "x-gate-type": gate_type,
        "properties": props,
        "additionalProperties": False,
    }
    if required:
        out["required"] = list(required)
    out.update(extra)
    return out
