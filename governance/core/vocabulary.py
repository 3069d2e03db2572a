"""Names the product speaks in, defined once: stages, tiers, roles, gate types and metrics.

Pure data, so the policy schema, the gate functions, the models' choices and the docs can
share it without importing each other (and without loading scipy: the policy schema is
imported by every web process).
"""

from __future__ import annotations

STAGES = ("draft", "staging", "production", "deprecated", "archived")
RISK_TIERS = ("low", "medium", "high", "regulated", "safety_critical")
#: Promotion request statuses (DESIGN.md contract).
REQUEST_STATUSES = (
    "awaiting_gates",
    "awaiting_approvals",
    "promoted",
    "gates_failed",
    "rejected",
    "changes_requested",
    "cancelled",
    "expired",
)
#: Not closed: a version has at most one open request. Changes requested waits for its requester.
OPEN_REQUEST_STATUSES = ("awaiting_gates", "awaiting_approvals", "changes_requested")
#: Open and waiting for the gates or for decisions.
DECIDABLE_REQUEST_STATUSES = ("awaiting_gates", "awaiting_approvals")
CHANGE_TYPES = ("standard", "emergency", "experiment")

ROLES = (
    "model_owner",
    "reviewer",
    "risk_officer",
    "compliance_officer",
    "mlops",
    "product_owner",
    "domain_expert",
    "auditor",
)
#: Roles that are read-only and can never fill a required approval slot.
READ_ONLY_ROLES = ("auditor",)
APPROVER_ROLES = tuple(r for r in ROLES if r not in READ_ONLY_ROLES)

#: Evidence kinds (DESIGN.md).
EVIDENCE_KINDS = (
    "predictions",
    "metrics",
    "latency",
    "cost",
    "sbom",
    "licenses",
    "training_config",
    "feature_reference",
    "feature_current",
    "robustness",
    "attachment",
)
DOCUMENT_KINDS = ("model_card", "evaluation_report", "monitoring_plan", "rollback_plan")
#: The lineage a version is registered with, which the reproducibility gate can require.
LINEAGE_FIELDS = ("code_hash", "data_snapshot_id", "training_config", "seed", "artifact_sha256")

# How pages say a name, where "safety_critical" -> "Safety critical" is not enough.
_LABELS = {
    "reviewer": "Reviewer (tech lead)",
    "mlops": "MLOps engineer",
    "auditor": "Auditor (read-only)",
    "predictions": "Predictions (table)",
    "metrics": "Metrics (JSON)",
    "latency": "Latency samples (table)",
    "cost": "Cost (JSON)",
    "sbom": "SBOM (CycloneDX JSON)",
    "licenses": "Licences",
    "feature_reference": "Feature reference (table)",
    "feature_current": "Feature current (table)",
    "robustness": "Robustness (JSON)",
    "attachment": "Attachment (any file)",
}


def label(name: str) -> str:
    return _LABELS.get(name) or name.replace("_", " ").capitalize()


def choices(names: tuple[str, ...]) -> list[tuple[str, tuple[str, str]]]:
    """Members for a Django TextChoices built from names: Stage.DRAFT == "draft", label "Draft"."""
    return [(name.upper(), (name, label(name))) for name in names]


GATE_TYPES = (
    "performance",
    "threshold_metric",
    "fairness",
    "latency",
    "error_rate",
    "cost",
    "cost_weighted",
    "drift",
    "robustness",
    "reproducibility",
    "security",
    "documentation",
    "declared_metrics",
)

PERFORMANCE_METRICS = ("auc", "ks", "accuracy", "precision", "recall", "f1", "ctr", "mae", "rmse")
LOWER_IS_BETTER_METRICS = ("mae", "rmse")
PERFORMANCE_MODES = ("non_inferiority", "superiority")
THRESHOLD_METRICS = ("recall", "sensitivity", "specificity", "precision", "npv", "accuracy", "f1", "fpr", "fnr")
# What the declared_metrics gate recomputes from a predictions table to check a metrics file.
DECLARED_METRICS = (
    "auc",
    "ks",
    "accuracy",
    "precision",
    "recall",
    "sensitivity",
    "specificity",
    "npv",
    "f1",
    "fpr",
    "fnr",
    "mae",
    "rmse",
)
FAIRNESS_RATIO_METRICS = ("disparate_impact_ratio", "demographic_parity_ratio")
FAIRNESS_DIFFERENCE_METRICS = (
    "demographic_parity_difference",
    "equal_opportunity_difference",
    "equalized_odds_difference",
)
FAIRNESS_METRICS = FAIRNESS_RATIO_METRICS + FAIRNESS_DIFFERENCE_METRICS
SMALL_GROUP_POLICIES = ("warn", "ignore", "fail")
DRIFT_METHODS = ("ks", "psi")
DRIFT_P_ADJUST = ("holm", "bonferroni", "none")  # multiple-testing adjustment over features
SECURITY_CHECKS = ("sbom", "licenses", "secrets", "pii")
