"""Names the product speaks in, defined once: stages, tiers, roles, gate types and metrics.

Pure data, so the policy schema, the gate functions, the models' choices and the docs can
share it without importing each other (and without loading scipy: the policy schema is
imported by every web process).
"""

from __future__ import annotations

# Each *_LABELS mapping is the definition: name -> how pages say it. Django choices are
# built from these (registry.models.Stage, accounts.roles.Role, ...).
STAGE_LABELS = {
    "draft": "Draft",
    "staging": "Staging",
    "production": "Production",
    "deprecated": "Deprecated",
    "archived": "Archived",
}
STAGES = tuple(STAGE_LABELS)
RISK_TIER_LABELS = {
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "regulated": "Regulated",
    "safety_critical": "Safety critical",
}
RISK_TIERS = tuple(RISK_TIER_LABELS)
#: Promotion request statuses (DESIGN.md contract).
REQUEST_STATUS_LABELS = {
    "awaiting_gates": "Awaiting gates",
    "awaiting_approvals": "Awaiting approvals",
    "promoted": "Promoted",
    "gates_failed": "Gates failed",
    "rejected": "Rejected",
    "changes_requested": "Changes requested",
    "cancelled": "Cancelled",
    "expired": "Expired",
}
REQUEST_STATUSES = tuple(REQUEST_STATUS_LABELS)
OPEN_REQUEST_STATUSES = ("awaiting_gates", "awaiting_approvals")
CHANGE_TYPE_LABELS = {"standard": "Standard", "emergency": "Emergency", "experiment": "Experiment"}
CHANGE_TYPES = tuple(CHANGE_TYPE_LABELS)

ROLE_LABELS = {
    "model_owner": "Model owner",
    "reviewer": "Reviewer (tech lead)",
    "risk_officer": "Risk officer",
    "compliance_officer": "Compliance officer",
    "mlops": "MLOps engineer",
    "product_owner": "Product owner",
    "domain_expert": "Domain expert",
    "auditor": "Auditor (read-only)",
}
ROLES = tuple(ROLE_LABELS)
#: Roles that are read-only and can never fill a required approval slot.
READ_ONLY_ROLES = ("auditor",)
APPROVER_ROLES = tuple(r for r in ROLES if r not in READ_ONLY_ROLES)

#: Evidence kinds (DESIGN.md) and how pages name them.
EVIDENCE_KIND_LABELS = {
    "predictions": "Predictions (table)",
    "metrics": "Metrics (JSON)",
    "latency": "Latency samples (table)",
    "cost": "Cost (JSON)",
    "sbom": "SBOM (CycloneDX JSON)",
    "licenses": "Licences",
    "training_config": "Training config",
    "feature_reference": "Feature reference (table)",
    "feature_current": "Feature current (table)",
    "robustness": "Robustness (JSON)",
    "attachment": "Attachment (any file)",
}
EVIDENCE_KINDS = tuple(EVIDENCE_KIND_LABELS)
#: Governance documents and how pages name them.
DOCUMENT_KIND_LABELS = {
    "model_card": "Model card",
    "evaluation_report": "Evaluation report",
    "monitoring_plan": "Monitoring plan",
    "rollback_plan": "Rollback plan",
}
DOCUMENT_KINDS = tuple(DOCUMENT_KIND_LABELS)

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
)

PERFORMANCE_METRICS = ("auc", "ks", "accuracy", "precision", "recall", "f1", "ctr", "mae", "rmse")
LOWER_IS_BETTER_METRICS = ("mae", "rmse")
PERFORMANCE_MODES = ("non_inferiority", "superiority")
THRESHOLD_METRICS = ("recall", "sensitivity", "specificity", "precision", "npv", "accuracy", "f1", "fpr", "fnr")
FAIRNESS_RATIO_METRICS = ("disparate_impact_ratio", "demographic_parity_ratio")
FAIRNESS_DIFFERENCE_METRICS = (
    "demographic_parity_difference",
    "equal_opportunity_difference",
    "equalized_odds_difference",
)
FAIRNESS_METRICS = FAIRNESS_RATIO_METRICS + FAIRNESS_DIFFERENCE_METRICS
SMALL_GROUP_POLICIES = ("warn", "ignore", "fail")
DRIFT_METHODS = ("ks", "psi")
SECURITY_CHECKS = ("sbom", "licenses", "secrets", "pii")
