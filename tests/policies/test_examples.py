"""The shipped example policies parse and encode their worked examples' thresholds.

Pure: no Django (run with `-p no:django`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from governance.policies import schema as S
from governance.policies.loader import parse_policy

EXAMPLES = Path(S.__file__).parent / "examples"
FILES = sorted(EXAMPLES.glob("*.yaml"))


def load(name: str):
    return parse_policy((EXAMPLES / f"{name}.yaml").read_bytes())


def gates(doc, src="staging", dst="production"):
    return {g["id"]: g for g in doc.gates_for(src, dst)}


def roles(doc, src="staging", dst="production"):
    return [a["role"] for a in doc.approvals_for(src, dst)]


def test_the_six_examples_are_shipped():
    assert {p.stem for p in FILES} == {
        "credit-risk-regulated",
        "ecommerce-recommender",
        "medical-imaging-triage",
        "ridesharing-eta",
        "fraud-cost-weighted",
        "default-low-risk",
    }


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_parses_named_after_its_file_and_commented(path):
    raw = path.read_bytes()
    doc = parse_policy(raw)
    assert doc.name == path.stem
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()
    assert doc.data.get("description")
    comments = [line for line in raw.decode().splitlines() if line.strip().startswith("#")]
    assert len(comments) >= 8, "examples explain their thresholds in comments"
    # Every example defines the production door and how to retire a model.
    assert doc.transition("staging", "production") is not None
    assert roles(doc, "production", "deprecated")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_dump_roundtrip_is_stable(path):
    """Defaults are idempotent: dumping the filled data and parsing it gives the same data."""
    doc = parse_policy(path.read_bytes())
    again = parse_policy(yaml.safe_dump(doc.data, sort_keys=False))
    assert again.data == doc.data


def test_every_risk_tier_has_an_example_policy():
    covered = set()
    for path in FILES:
        covered |= set(parse_policy(path.read_bytes()).data["applies_to"].get("risk_tiers", []))
    assert covered == set(S.RISK_TIERS)


def test_credit_risk_regulated():
    doc = load("credit-risk-regulated")
    assert doc.applies_to_model(name="any", risk_tier="regulated")
    assert not doc.applies_to_model(name="any", risk_tier="high")
    assert [g["type"] for g in doc.gates_for("draft", "staging")] == ["reproducibility"]
    assert roles(doc, "draft", "staging") == ["reviewer"]
    g = gates(doc)
    for gid, metric in (("auc_not_worse", "auc"), ("ks_not_worse", "ks")):
        assert g[gid]["type"] == "performance" and g[gid]["metric"] == metric
        assert g[gid]["mode"] == "non_inferiority"
        assert g[gid]["max_drop"] == 0.01 and g[gid]["confidence"] == 0.95
    reported = g["reported_metrics"]
    assert reported["type"] == "declared_metrics" and reported["metrics"] == ["auc", "ks"]
    assert reported["tolerance"] == 0.01
    fair = g["approval_rate_parity"]
    assert fair["metric"] == "disparate_impact_ratio" and fair["min"] == 0.8
    assert "gender" in fair["sensitive"] and fair["intersectional"] is False
    assert g["lineage"]["type"] == "reproducibility"
    assert g["lineage"]["require"] == list(S.REPRODUCIBILITY_FIELDS)
    assert g["supply_chain"]["checks"] == ["sbom", "licenses", "secrets", "pii"]
    assert set(g["supply_chain"]["license_deny"]) == {"AGPL-3.0", "GPL-3.0"}
    assert g["documents"]["require"] == list(S.DOCUMENT_KINDS)
    assert roles(doc) == ["model_owner", "risk_officer", "compliance_officer"]
    emergency = doc.emergency_for("staging", "production")
    assert emergency["bypassable_gates"] == ["documents"]
    assert roles(doc, "production", "deprecated") == ["model_owner"]
    assert doc.canary is None


def test_ecommerce_recommender():
    doc = load("ecommerce-recommender")
    assert doc.applies_to_model(name="ecommerce-recommender", risk_tier="low")
    assert not doc.applies_to_model(name="other", risk_tier="low")
    g = gates(doc)
    lift = g["ctr_lift"]
    assert lift["metric"] == "ctr" and lift["mode"] == "superiority"
    assert lift["min_relative_improvement"] == 0.02 and "max_drop" not in lift
    assert g["p95_latency"]["percentile"] == 95 and g["p95_latency"]["max_ms"] == 120
    assert roles(doc) == ["model_owner", "product_owner"]
    canary = doc.canary
    assert canary["traffic_percent"] == 10 and canary["duration_hours"] == 48
    assert {"kpi": "ctr", "relative_drop": 0.01} in canary["rollback_when"]
    assert {"kpi": "error_rate", "above": 0.005} in canary["rollback_when"]


def test_medical_imaging_triage():
    doc = load("medical-imaging-triage")
    assert doc.applies_to_model(name="any", risk_tier="safety_critical")
    g = gates(doc)
    assert g["sensitivity"]["type"] == "threshold_metric"
    assert g["sensitivity"]["metric"] == "sensitivity" and g["sensitivity"]["min"] == 0.95
    assert g["sensitivity"]["use_lower_confidence_bound"] is False
    assert g["specificity"]["metric"] == "specificity" and g["specificity"]["min"] == 0.9
    assert g["documents"]["type"] == "documentation"
    assert "model_card" in g["documents"]["require"]
    # Two-person rule: two entries, two distinct people.
    assert doc.approvals_for("staging", "production") == [
        {"role": "domain_expert", "count": 1},
        {"role": "model_owner", "count": 1},
    ]
    assert doc.emergency_for("staging", "production") is None
    assert doc.experiment_allowed("draft", "staging") is False


def test_ridesharing_eta():
    doc = load("ridesharing-eta")
    assert doc.applies_to_model(name="any", risk_tier="medium")
    g = gates(doc)
    assert g["mae_not_worse"]["metric"] == "mae" and g["mae_not_worse"]["max_drop"] == 0.1
    assert g["p95_latency"]["type"] == "latency" and g["p95_latency"]["percentile"] == 95
    drift = g["feature_drift"]
    assert drift["method"] == "ks" and drift["psi_max"] == 0.2
    assert roles(doc) == ["reviewer", "model_owner", "product_owner"]
    assert {"kpi": "latency_p95_ms", "above": 200, "for_minutes": 15} in doc.canary["rollback_when"]


def test_fraud_cost_weighted():
    doc = load("fraud-cost-weighted")
    assert doc.applies_to_model(name="fraud-detector", risk_tier="high")
    g = gates(doc)
    cost = g["expected_cost"]
    assert cost["type"] == "cost_weighted"
    assert (cost["fp_cost"], cost["fn_cost"], cost["max_relative_increase"]) == (5, 150, 0)
    assert g["recall_gain"]["metric"] == "recall" and g["recall_gain"]["mode"] == "superiority"
    assert g["fpr_cap"]["metric"] == "fpr" and "max" in g["fpr_cap"]
    assert roles(doc) == ["model_owner", "risk_officer"]
    kpis = {r["kpi"] for r in doc.canary["rollback_when"]}
    assert kpis == {"error_rate", "fpr"}


def test_default_low_risk():
    doc = load("default-low-risk")
    for tier in ("low", "high"):
        assert doc.applies_to_model(name="any", risk_tier=tier)
    assert not doc.applies_to_model(name="any", risk_tier="regulated")
    assert set(gates(doc)) == {"auc_not_worse", "lineage", "supply_chain", "documents"}
    assert roles(doc) == ["reviewer", "model_owner"]
    assert doc.approvals_for("deprecated", "archived") == []


def test_every_gate_type_a_policy_may_name_has_a_runner():
    from governance.policies import schema

    assert set(schema.GATE_TYPES) == set(__import__("governance.gates.runners", fromlist=["RUNNERS"]).RUNNERS)
