"""`inconclusive`, the third decision: final like passed and failed, in the audit chain, never a
pass; the policy's `on_inconclusive: block` ends the request like a failed gate, and the
request page says "inconclusive" and what data would decide it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from governance.approvals.models import RequestStatus
from governance.approvals.services import promotion_request
from governance.audit.models import AuditEvent
from governance.audit.sentences import event_sentence
from governance.audit.services import audit_verify
from governance.gates.models import FINAL_GATE_STATUSES, GateRun, GateStatus
from governance.gates.services import _finish, gate_run_claim, gates_finalize, outcome_envelope
from governance.gates.stats.outcome import INCONCLUSIVE, undecided
from governance.policies.services import policy_publish
from tests.factories import grant, make_model, make_team, make_user, make_version, upload

pytestmark = pytest.mark.django_db

POLICY = """
name: small-n
applies_to: {models: [small-n-model]}
transitions:
  staging->production:
    gates:
      - {id: p95, type: latency, percentile: 95, max_ms: 150, use_upper_confidence_bound: true}
    approvals: [{role: risk_officer}]
"""


def _request(rows: int = 40):
    team = make_team("small")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    version = make_version(make_model("small-n-model", team=team), owner, stage="staging")
    latency = "latency_ms\n" + "".join(f"{20 + i % 7}\n" for i in range(rows))
    upload(owner, version, "latency", latency.encode(), "latency.csv")
    policy_publish(text=POLICY)
    request = promotion_request(user=owner, version=version, to_stage="production", justification="x")
    return owner, request


def _finish_inconclusive(request) -> GateRun:
    """The stored path of an inconclusive result: claimed, enveloped, finished, finalized."""
    run = GateRun.objects.get(request=request, gate_id="p95")
    assert gate_run_claim(run.pk)
    result = undecided(
        "p95 upper bound does not exist below 72 requests",
        {"rows": 32, "text": "at least 72 latency rows (32 more)"},
        metric="latency_p95_ms",
        value=25.0,
        threshold=150.0,
        n=40,
    )
    outcome = outcome_envelope(
        run_gate_id=run.gate_id,
        run_type=run.gate_type,
        status=result.status,
        explanation=result.explanation,
        inputs={},
        policy_sha256=request.policy_sha256,
        result=result.to_dict(),
    )
    _finish(GateRun.objects.get(pk=run.pk), status=result.status, outcome=outcome)
    gates_finalize(request_id=request.pk)
    return GateRun.objects.get(pk=run.pk)


def test_the_policy_defaults_on_inconclusive_to_block_and_refuses_other_modes():
    from governance.policies.loader import check_policy, parse_policy

    gate = parse_policy(POLICY).gates_for("staging", "production")[0]
    assert gate["on_inconclusive"] == "block"
    issues = check_policy(POLICY.replace("use_upper_confidence_bound: true", "on_inconclusive: accept"))
    assert [(i.path, i.line) for i in issues] == [("transitions.staging->production.gates[0].on_inconclusive", 7)]


def test_an_inconclusive_gate_blocks_the_request_and_says_what_data_is_needed(client):
    owner, request = _request()
    run = _finish_inconclusive(request)
    assert run.status == INCONCLUSIVE == GateStatus.INCONCLUSIVE and GateStatus.INCONCLUSIVE in FINAL_GATE_STATUSES
    assert run.outcome["details"]["needed"]["rows"] == 32
    assert run.outcome["explanation"].endswith("→ inconclusive")
    request.refresh_from_db()
    assert request.status == RequestStatus.GATES_FAILED  # never a pass
    assert "inconclusive" in request.status_reason
    assert "p95 (needs at least 72 latency rows (32 more))" in request.status_reason
    event = AuditEvent.objects.filter(action="promotion.gates_failed").latest("seq")
    assert event.data["inconclusive"] == ["p95"]
    assert "inconclusive (the data cannot tell) p95" in event_sentence(event)
    finished = AuditEvent.objects.filter(action="gate.finished", object_id=str(run.pk)).get()
    assert finished.data["status"] == "inconclusive"
    assert audit_verify().ok

    client.force_login(owner)
    page = client.get(reverse("web:request_detail", args=[request.pk])).content.decode()
    assert 'class="badge gate-inconclusive"' in page
    assert "Inconclusive: the data cannot tell" in page
    assert "at least 72 latency rows (32 more)" in page


def test_the_database_refuses_any_change_of_an_inconclusive_run():
    _, request = _request()
    run = _finish_inconclusive(request)
    with pytest.raises(DatabaseError, match="gate outcomes are final"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE gates_gaterun SET status = 'passed' WHERE id = %s", [run.pk])
    run.refresh_from_db()
    assert run.status == "inconclusive"


def test_a_latency_upper_bound_below_its_rows_is_inconclusive_end_to_end():
    """The real gate on 40 uploaded latencies: the distribution-free upper bound of the p95
    needs 72 rows, so the gate is inconclusive and the request is blocked, saying so."""
    from governance.gates.services import gate_run_execute

    _, request = _request(rows=40)
    run = GateRun.objects.get(request=request, gate_id="p95")
    assert gate_run_execute(run_id=run.pk) == "inconclusive"
    gates_finalize(request_id=request.pk)
    run.refresh_from_db()
    assert run.outcome["details"]["needed"] == {
        "rows": 32,
        "total_rows": 72,
        "text": "at least 72 latency rows (32 more)",
    }
    assert run.outcome["ci_high"] is None and run.outcome["value"] is not None
    request.refresh_from_db()
    assert request.status == RequestStatus.GATES_FAILED
    assert "p95 (needs at least 72 latency rows (32 more))" in request.status_reason


FAIRNESS_POLICY = """
name: parity
applies_to: {models: [parity-model]}
transitions:
  staging->production:
    gates:
      - {id: parity, type: fairness, metric: disparate_impact_ratio, sensitive: [grp], min: 0.8}
    approvals: [{role: risk_officer}]
"""


def _fairness_request(groups: dict[str, tuple[int, int]]):
    """A request whose predictions table has, per group, (rows, rows selected)."""
    team = make_team("parity")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    version = make_version(make_model("parity-model", team=team), owner, stage="staging")
    lines = ["y_true,y_score,grp"]
    for label, (rows, selected) in groups.items():
        lines += [f"{i % 2},{0.9 if i < selected else 0.1},{label}" for i in range(rows)]
    upload(owner, version, "predictions", ("\n".join(lines) + "\n").encode(), "predictions.csv")
    policy_publish(text=FAIRNESS_POLICY)
    request = promotion_request(user=owner, version=version, to_stage="production", justification="x")
    from governance.gates.services import gate_run_execute

    run = GateRun.objects.get(request=request, gate_id="parity")
    gate_run_execute(run_id=run.pk)
    gates_finalize(request_id=request.pk)
    request.refresh_from_db()
    return owner, request


def test_a_fair_model_with_small_groups_is_inconclusive_with_its_interval_on_the_page_and_in_the_api(client):
    from tests.factories import api_client

    owner, request = _fairness_request({f"g{k}": (50, 20) for k in range(8)})  # all at 40%
    assert request.status == RequestStatus.GATES_FAILED and "parity (needs about" in request.status_reason
    gate = api_client(owner).get(f"/api/v1/promotions/{request.pk}/").json()["gates"][0]
    assert gate["status"] == "inconclusive" and gate["value"] == 1.0
    assert gate["ci_low"] < 0.8 <= gate["ci_high"] and gate["details"]["comparisons"] == 28
    assert gate["details"]["needed"]["rows_per_group"] > 50
    client.force_login(owner)
    page = client.get(reverse("web:request_detail", args=[request.pk])).content.decode()
    assert 'class="badge gate-inconclusive"' in page
    from governance.web.templatetags.web_extras import num

    assert f'<span class="k">CI</span><span class="v">[{num(gate["ci_low"])}, {num(gate["ci_high"])}]</span>' in page
    assert "straddles the minimum 0.800" in page


def test_an_unfair_model_with_large_groups_fails_with_its_interval():
    from tests.factories import api_client

    owner, request = _fairness_request({"a": (3000, 1200), "b": (3000, 600)})  # 0.40 vs 0.20
    assert request.status == RequestStatus.GATES_FAILED and "failed: parity" in request.status_reason
    gate = api_client(owner).get(f"/api/v1/promotions/{request.pk}/").json()["gates"][0]
    assert gate["status"] == "failed" and gate["value"] == pytest.approx(0.5)
    assert gate["ci_low"] < 0.5 < gate["ci_high"] < 0.8
