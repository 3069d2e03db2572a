"""The policy document's JSON Schema (draft 2020-12) and its vocabulary.

Pure: no Django. `loader.py` validates parsed YAML against `POLICY_SCHEMA`, then runs the
few checks a JSON Schema cannot express (unique gate ids, bypassable gates that exist, ...).

Besides standard keywords the schema carries a few annotations (JSON Schema ignores
unknown keywords) that the loader uses to phrase errors for humans:

- ``x-noun``: what an ``enum`` value is ("gate type", "role") -> "unknown role 'x' (...)".
- ``x-messages``: ``{keyword: template}`` replacing the message of a failing keyword;
  templates may use ``{value}`` (the offending value, quoted) and ``{parent[key]}``.
- ``x-exactly-one-of``: the keys a ``oneOf`` of ``required`` choices is about.
- ``x-key-kind``: what the keys of a mapping are ("transition"), for unknown keys.
- ``x-expected``: the values an ``enum`` error lists, when not all of ``enum`` (roles:
  ``auditor`` is in the enum so that it gets its own message, but is never suggested).

The gate parameters are documented in docs/policies.md; ``default`` keywords are the
defaults the loader fills in (see ``loader.fill_defaults``).
"""

from __future__ import annotations

import copy
from typing import Any

from governance.core.vocabulary import (  # noqa: F401 - APPROVER_ROLES, READ_ONLY_ROLES, ROLES re-exported: S.ROLES, ...
    APPROVER_ROLES,
    DECLARED_METRICS,
    DOCUMENT_KINDS,
    DRIFT_METHODS,
    DRIFT_P_ADJUST,
    FAIRNESS_DIFFERENCE_METRICS,
    FAIRNESS_METRICS,
    FAIRNESS_RATIO_METRICS,
    GATE_TYPES,
    PERFORMANCE_METRICS,
    PERFORMANCE_MODES,
    READ_ONLY_ROLES,
    RISK_TIERS,
    ROLES,
    SECURITY_CHECKS,
    SMALL_GROUP_POLICIES,
    THRESHOLD_METRICS,
)
from governance.policies.schema_parts import (  # noqa: F401 - re-exported: S.MAX_GATES, ...
    _ON_INCONCLUSIVE,
    BOUNDED_PERFORMANCE_METRICS,
    CANARY_CONDITIONS,
    GATE_ID_PATTERN,
    KPI_PATTERN,
    MAX_APPROVAL_COUNT,
    MAX_APPROVALS,
    MAX_GATES,
    MAX_LIST_ITEMS,
    MAX_NESTING_DEPTH,
    MAX_POLICY_BYTES,
    MODEL_NAME_PATTERN,
    NAME_PATTERN,
    ON_INCONCLUSIVE_MODES,
    PREDICTION_COLUMNS,
    REPRODUCIBILITY_FIELDS,
    SCHEMA_DIALECT,
    SCHEMA_ID,
    SOD_EXCLUSIONS,
    SPDX_PATTERN,
    TRANSITION_PAIRS,
    TRANSITIONS,
    WELL_KNOWN_KPIS,
    _approver_role,
    _boolean,
    _bootstrap_samples,
    _closed,
    _confidence,
    _enum,
    _exactly_one_of,
    _forbidden,
    _gate,
    _number,
    _probability,
    _seed,
    _string_list,
    _subset,
    _text,
    _threshold,
    _when,
)

# --------------------------------------------------------------------------- gates

_GATE_DEFS: dict[str, dict[str, Any]] = {
    "performance": _gate(
        "performance",
        {
            "metric": _enum(PERFORMANCE_METRICS, "performance metric"),
            "compare": _enum(("baseline",), "comparison", default="baseline"),
            "mode": _enum(PERFORMANCE_MODES, "performance mode", default="non_inferiority"),
            "max_drop": _number(
                minimum=0,
                default=0,
                description="non_inferiority: largest tolerated drop (absolute, metric units).",
            ),
            "min_improvement": _number(exclusive_minimum=0, description="superiority: required absolute gain."),
            "min_relative_improvement": _number(
                exclusive_minimum=0,
                maximum=1,
                description="superiority: required relative gain (0.02 = +2%).",
            ),
            "confidence": _confidence(),
            "threshold": _threshold(),
            "bootstrap_samples": _bootstrap_samples(),
            "seed": _seed(),
            "top_fraction": _number(
                exclusive_minimum=0,
                maximum=1,
                description="ctr only: share of top-scored rows counted as shown.",
            ),
        },
        required=("metric",),
        allOf=[
            {
                "if": {"properties": {"mode": {"const": "superiority"}}, "required": ["mode"]},
                "then": {
                    **_exactly_one_of("min_improvement", "min_relative_improvement"),
                    "properties": {
                        "max_drop": _forbidden(
                            "'max_drop' applies to mode non_inferiority only "
                            "(superiority uses min_improvement or min_relative_improvement)"
                        )
                    },
                },
                "else": {
                    "properties": {
                        "min_improvement": _forbidden(
                            "'min_improvement' applies to mode superiority only "
                            "(add mode: superiority, or use max_drop)"
                        ),
                        "min_relative_improvement": _forbidden(
                            "'min_relative_improvement' applies to mode superiority only "
                            "(add mode: superiority, or use max_drop)"
                        ),
                    }
                },
            },
            {
                "if": {
                    "properties": {"metric": {"not": {"const": "ctr"}}},
                    "required": ["metric"],
                },
                "then": {
                    "properties": {
                        "top_fraction": _forbidden(
                            "'top_fraction' applies to metric ctr only (got metric {parent[metric]})"
                        )
                    }
                },
            },
            _when(
                "metric",
                BOUNDED_PERFORMANCE_METRICS,
                {"properties": {"max_drop": {"maximum": 1}, "min_improvement": {"maximum": 1}}},
            ),
        ],
    ),
    "threshold_metric": _gate(
        "threshold_metric",
        {
            "metric": _enum(THRESHOLD_METRICS, "threshold metric"),
            "min": _probability(description="Pass when the metric is at least this."),
            "max": _probability(description="Pass when the metric is at most this."),
            "use_lower_confidence_bound": _boolean(
                False,
                "Compare the Clopper-Pearson bound instead of the point estimate (lower bound for min, upper bound for max).",
            ),
            "confidence": _confidence(),
            "threshold": _threshold(),
        },
        required=("metric",),
        **_exactly_one_of("min", "max"),
    ),
    "fairness": _gate(
        "fairness",
        {
            "metric": _enum(FAIRNESS_METRICS, "fairness metric"),
            "sensitive": _string_list(
                "sensitive column",
                "Columns of the predictions table holding the sensitive attributes.",
                **{
                    "not": {"enum": list(PREDICTION_COLUMNS)},
                    "x-messages": {"not": "{value} is a predictions column, not a sensitive attribute"},
                },
            ),
            "min": _probability(description="Ratio metrics: smallest tolerated ratio."),
            "max": _probability(description="Difference metrics: largest tolerated gap."),
            "intersectional": _boolean(False, "Also evaluate the intersection of all sensitive columns."),
            "min_group_size": _number(minimum=1, default=30, integer=True, description="Smaller groups are 'small'."),
            "small_groups": _enum(
                SMALL_GROUP_POLICIES,
                "small-group policy",
                default="warn",
                description="warn: excluded and reported; ignore: excluded silently; fail: the gate fails.",
            ),
            "threshold": _threshold(),
            "confidence": _confidence(),
        },
        required=("metric", "sensitive"),
        allOf=[
            _exactly_one_of("min", "max"),
            _when(
                "metric",
                FAIRNESS_RATIO_METRICS,
                {
                    "properties": {
                        "max": _forbidden(
                            "'max' does not apply to ratio metric '{parent[metric]}' "
                            "(ratio metrics take 'min', e.g. min: 0.8)"
                        )
                    }
                },
            ),
            _when(
                "metric",
                FAIRNESS_DIFFERENCE_METRICS,
                {
                    "properties": {
                        "min": _forbidden(
                            "'min' does not apply to difference metric '{parent[metric]}' "
                            "(difference metrics take 'max', e.g. max: 0.05)"
                        )
                    }
                },
            ),
            {
                "if": {
                    "properties": {"intersectional": {"const": True}},
                    "required": ["intersectional"],
                },
                "then": {
                    "properties": {
                        "sensitive": {
                            "minItems": 2,
                            "x-messages": {"minItems": "intersectional: true needs at least two sensitive columns"},
                        }
                    }
                },
            },
        ],
    ),
    "latency": _gate(
        "latency",
        {
            "percentile": _number(minimum=50, maximum=99.99, default=95),
            "max_ms": _number(exclusive_minimum=0, description="Largest tolerated latency."),
            "confidence": _confidence(),
            "use_upper_confidence_bound": _boolean(
                False,
                "Compare the distribution-free upper confidence bound (order statistics) instead of the point "
                "estimate; inconclusive below the rows it needs.",
            ),
            "bootstrap_samples": _bootstrap_samples(),
            "seed": _seed(),
        },
        required=("max_ms",),
    ),
    "error_rate": _gate(
        "error_rate",
        {
            "max": _probability(description="Largest tolerated error rate."),
            "use_upper_confidence_bound": _boolean(
                False, "Compare the Clopper-Pearson upper bound instead of the point estimate."
            ),
            "confidence": _confidence(),
        },
        required=("max",),
    ),
    "cost": _gate(
        "cost",
        {"max_per_1k": _number(minimum=0, description="Largest cost per 1,000 predictions.")},
        required=("max_per_1k",),
    ),
    "cost_weighted": _gate(
        "cost_weighted",
        {
            "fp_cost": _number(minimum=0, description="Cost of one false positive."),
            "fn_cost": _number(minimum=0, description="Cost of one false negative."),
            "threshold": _threshold(),
            "max_relative_increase": _number(
                minimum=0,
                default=0,
                description="Tolerated increase of expected cost per prediction over the baseline, as a fraction.",
            ),
            "confidence": _confidence(),
            "bootstrap_samples": _bootstrap_samples(),
            "seed": _seed(),
        },
        required=("fp_cost", "fn_cost"),
    ),
    "drift": _gate(
        "drift",
        {
            "method": _enum(DRIFT_METHODS, "drift method", default="ks"),
            "max_p_value_drift": _probability(
                0.05,
                "ks: a feature drifts when its test p-value, adjusted over the features "
                "(p_adjust), is below this: the family-wise level.",
            ),
            "p_adjust": _enum(
                DRIFT_P_ADJUST,
                "multiple-testing adjustment",
                default="holm",
                description="ks: holm (default) or bonferroni keep max_p_value_drift family-wise; "
                "none compares each feature's raw p-value.",
            ),
            "psi_max": _number(
                exclusive_minimum=0,
                default=0.2,
                description="psi: a feature drifts when its PSI exceeds this.",
            ),
            "bins": _number(minimum=2, maximum=100, default=10, integer=True),
            "features": _string_list("feature", "Features to test (default: all shared)."),
            "max_drifted_features": _number(minimum=0, default=0, integer=True),
        },
    ),
    "robustness": _gate(
        "robustness",
        {"max_drop": _number(minimum=0, default=0.05, description="Largest tolerated drop.")},
    ),
    "reproducibility": _gate(
        "reproducibility",
        {
            "require": _subset(REPRODUCIBILITY_FIELDS, "lineage field", "Lineage fields that must be recorded."),
            "verify_artifact": _boolean(
                False,
                "Fail when the artifact cannot be fetched and hashed to verify artifact_sha256 "
                "(default: unverified is a warning; a mismatch always fails).",
            ),
        },
    ),
    "declared_metrics": _gate(
        "declared_metrics",
        {
            "metrics": _subset(
                DECLARED_METRICS,
                "declared metric",
                "Metrics to compare (default: every declared metric the gate can recompute).",
                default_all=False,
            ),
            "tolerance": _number(
                minimum=0,
                maximum=1000000,
                default=0.02,
                description="Largest tolerated |declared - recomputed| (metric units).",
            ),
            "relative_tolerance": _number(
                exclusive_minimum=0,
                maximum=1,
                description="Or this fraction of the recomputed value, when larger (0.05 = 5%).",
            ),
            "threshold": _threshold(),
        },
    ),
    "security": _gate(
        "security",
        {
            "checks": _subset(SECURITY_CHECKS, "security check", "Scans to run."),
            "license_deny": {
                **_string_list("license", "SPDX ids that fail the gate.", pattern=SPDX_PATTERN),
                "minItems": 0,
                "default": [],
            },
            "license_allow": _string_list(
                "license",
                "When given, any license not listed fails the gate.",
                pattern=SPDX_PATTERN,
            ),
        },
    ),
    "documentation": _gate(
        "documentation",
        {"require": _subset(DOCUMENT_KINDS, "document kind", "Documents the version must have.")},
    ),
}

for _def in _GATE_DEFS.values():
    for _prop in ("license_deny", "license_allow"):
        if _prop in _def["properties"]:
            _def["properties"][_prop]["items"]["x-messages"] = {
                "pattern": "{value} is not an SPDX license id (e.g. GPL-3.0, Apache-2.0)"
            }

# --------------------------------------------------------------------------- document

_TRANSITION_NO_EXPERIMENT = {
    "$ref": "#/$defs/transition",
    "properties": {
        "experiment_allowed": {
            "const": False,
            "x-messages": {
                "const": "experiment changes may target staging only; "
                "experiment_allowed can be true only on a transition into staging"
            },
        }
    },
}

POLICY_SCHEMA: dict[str, Any] = {
    "$schema": SCHEMA_DIALECT,
    "$id": SCHEMA_ID,
    "title": "Model promotion policy",
    "type": "object",
    "properties": {
        "name": {
            "type": "string",
            "pattern": NAME_PATTERN,
            "x-messages": {
                "pattern": "invalid policy name {value}: use 2-64 characters of a-z, 0-9, "
                "'_' and '-', starting with a letter or digit"
            },
        },
        "description": _text("What the policy is for."),
        "applies_to": {
            "type": "object",
            "properties": {
                "risk_tiers": {
                    "type": "array",
                    "items": _enum(RISK_TIERS, "risk tier"),
                    "minItems": 1,
                    "uniqueItems": True,
                },
                "models": _string_list(
                    "model",
                    "Registered model names.",
                    pattern=MODEL_NAME_PATTERN,
                    **{"x-messages": {"pattern": "invalid model name {value} (no leading or trailing spaces)"}},
                ),
            },
            "additionalProperties": False,
            **_exactly_one_of("risk_tiers", "models"),
        },
        "transitions": {
            "type": "object",
            "x-key-kind": "transition",
            "properties": {
                key: (
                    {"$ref": "#/$defs/transition"}
                    if key.endswith("->staging")
                    else copy.deepcopy(_TRANSITION_NO_EXPERIMENT)
                )
                for key in TRANSITIONS
            },
            "additionalProperties": False,
            "minProperties": 1,
            "x-messages": {"minProperties": "must define at least one transition"},
        },
        "canary": {"$ref": "#/$defs/canary"},
    },
    "required": ["name", "applies_to", "transitions"],
    "additionalProperties": False,
    "$defs": {
        "transition": _closed(
            {
                "description": _text(),
                "gates": {"type": "array", "items": {"$ref": "#/$defs/gate"}, "maxItems": MAX_GATES},
                "approvals": {"type": "array", "items": {"$ref": "#/$defs/approval"}, "maxItems": MAX_APPROVALS},
                "emergency": {"$ref": "#/$defs/emergency"},
                "experiment_allowed": {
                    "type": "boolean",
                    "description": "Whether change_type experiment may use this transition "
                    "(default: true into staging, false elsewhere).",
                },
                "sla_hours": _number(
                    minimum=1,
                    maximum=2160,
                    integer=True,
                    description="Approvals are due this many hours after the gates pass; overdue requests "
                    "are flagged and reminded daily.",
                ),
                "ticket_pattern": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "description": "Regular expression a decision's ticket ID must match in full, "
                    "e.g. '[A-Z]+-[0-9]+'; a ticket is then required.",
                },
                "ticket_example": {
                    "type": "string",
                    "maxLength": 100,
                    "description": "Shown when a ticket is refused.",
                },
                "exclude_from_approval": _subset(
                    SOD_EXCLUSIONS,
                    "group",
                    "Who may not approve besides the requester and the version's author (always excluded).",
                    default_all=False,
                ),
            },
            ["gates", "approvals"],
        ),
        "gate": {
            "type": "object",
            "properties": {
                "id": {
                    "type": "string",
                    "pattern": GATE_ID_PATTERN,
                    "x-messages": {"pattern": "invalid gate id {value}: use 1-64 characters of a-z, 0-9, '_' and '-'"},
                },
                "type": _enum(GATE_TYPES, "gate type"),
                "description": _text(),
            },
            "required": ["id", "type"],
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": t}}, "required": ["type"]},
                    "then": {"$ref": f"#/$defs/gate_{t}"},
                }
                for t in GATE_TYPES
            ],
        },
        **{f"gate_{t}": d for t, d in _GATE_DEFS.items()},
        "approval": _closed(
            {
                "role": _approver_role("be a required approver"),
                "count": _number(
                    minimum=1,
                    maximum=MAX_APPROVAL_COUNT,
                    default=1,
                    integer=True,
                    description="Distinct people holding the role who must approve.",
                ),
                "description": _text(),
            },
            ["role"],
        ),
        "emergency": _closed(
            {
                "bypassable_gates": {
                    "type": "array",
                    "items": {"type": "string", "pattern": GATE_ID_PATTERN},
                    "minItems": 1,
                    "uniqueItems": True,
                },
                "max_bypass_hours": _number(minimum=1, maximum=720, integer=True),
                "post_incident_review_within_hours": _number(minimum=1, maximum=2160, integer=True),
                "description": _text(),
            },
            ["bypassable_gates", "max_bypass_hours", "post_incident_review_within_hours"],
        ),
        "canary": _closed(
            {
                "traffic_percent": _number(exclusive_minimum=0, maximum=50),
                "duration_hours": _number(minimum=1, maximum=720, integer=True),
                "rollback_when": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/rollback_rule"},
                    "minItems": 1,
                },
                "description": _text(),
            },
            ["traffic_percent", "duration_hours", "rollback_when"],
        ),
        "rollback_rule": _closed(
            {
                "kpi": {
                    "type": "string",
                    "pattern": KPI_PATTERN,
                    "x-messages": {
                        "pattern": "invalid KPI name {value}: use a-z, 0-9 and '_' "
                        "(e.g. " + ", ".join(WELL_KNOWN_KPIS) + ")"
                    },
                },
                "relative_drop": _number(
                    exclusive_minimum=0,
                    maximum=1,
                    description="Roll back when the KPI falls this fraction below baseline.",
                ),
                "above": _number(description="Roll back when the KPI exceeds this."),
                "below": _number(description="Roll back when the KPI falls under this."),
                "for_minutes": _number(
                    minimum=1,
                    integer=True,
                    description="Only when the condition holds this long (default: at once).",
                ),
                "description": _text(),
            },
            ["kpi"],
            **_exactly_one_of(*CANARY_CONDITIONS),
        ),
    },
}


def _bound_lists(node: Any) -> None:
    """Every list in the schema has a maxItems (MAX_LIST_ITEMS unless set above)."""
    if isinstance(node, dict):
        if node.get("type") == "array" and "maxItems" not in node:
            node["maxItems"] = MAX_LIST_ITEMS
        for value in node.values():
            _bound_lists(value)
    elif isinstance(node, list):
        for value in node:
            _bound_lists(value)


_bound_lists(POLICY_SCHEMA)


def gate_definition(gate_type: str) -> dict[str, Any] | None:
    """The schema of one gate type (None for an unknown type)."""
    return POLICY_SCHEMA["$defs"].get(f"gate_{gate_type}")


def gate_parameters(gate_type: str) -> tuple[str, ...]:
    """Parameter names a gate type accepts, besides the keys every gate has (id, type,
    description, on_inconclusive)."""
    d = gate_definition(gate_type)
    if d is None:
        return ()
    return tuple(k for k in d["properties"] if k not in ("id", "type", "description", "on_inconclusive"))


def transition_key(src: str, dst: str) -> str:
    return f"{src}->{dst}"
