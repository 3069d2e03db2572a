"""What each event says: the payload built from the audit event and the rows it names, for
the events the end-to-end tests do not send (roll back, rejection, report ready)."""

from __future__ import annotations

import pytest

from governance.approvals.services import promotion_decide, promotion_request, promotion_rollback
from governance.audit.models import AuditEvent
from governance.policies.services import policy_publish
from governance.reports.models import Report, ReportScope
from governance.webhooks.events import ACTION_EVENTS, EVENT_TYPES, event_id_of, subject_of
from tests.factories import grant, make_user, make_version

pytestmark = pytest.mark.django_db

POLICY = """
name: simple
applies_to: {models: [credit-scoring]}
transitions:
  staging->production:
    gates: []
    approvals: [{role: reviewer}]
"""


def _event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def test_every_mapped_action_is_one_of_the_event_types():
    assert set(ACTION_EVENTS.values()) == set(EVENT_TYPES)


def test_a_rejection_and_a_roll_back(alice, team, model):
    policy_publish(text=POLICY)
    rev = make_user("rev")
    grant(rev, "reviewer", team=team)
    v1, v2, v3 = (make_version(model, alice, stage="staging") for _ in range(3))
    for v in (v1, v2):
        request = promotion_request(user=alice, version=v, to_stage="production", justification="better")
        promotion_decide(user=rev, request=request, decision="approve", reason="ok", risk_class="low")
    rejected = promotion_request(user=alice, version=v3, to_stage="production", justification="try", ticket_id="T-1")
    promotion_decide(user=rev, request=rejected, decision="reject", reason="too risky", risk_class="high")

    subject = subject_of(_event("promotion.rejected"))
    assert subject.team_id == team.pk
    assert subject.payload["decision"] == {
        "decision": "reject",
        "by": "rev",
        "role": "reviewer",
        "reason": "too risky",
        "ticket_id": "",
        "risk_class": "high",
    }
    assert subject.payload["request"]["status"] == "rejected" and subject.payload["request"]["ticket_id"] == "T-1"

    promotion_rollback(user=alice, model=model, reason="latency regression", ticket_id="INC-7")
    event = _event("version.rolled_back")
    rolled = subject_of(event)
    assert rolled.team_id == team.pk
    assert {k: rolled.payload[k] for k in ("model", "from_version", "to_version", "reason", "ticket_id")} == {
        "model": "credit-scoring",
        "from_version": v2.version,
        "to_version": v1.version,
        "reason": "latency regression",
        "ticket_id": "INC-7",
    }
    assert rolled.payload["url"].endswith("/models/credit-scoring/")
    assert event_id_of(event) == f"evt_{event.hash[:32]}"


def test_a_report_belongs_to_the_team_of_what_it_covers(alice, team, version, other_team):
    request = promotion_request(user=alice, version=version, to_stage="staging", justification="x")
    report = Report.objects.create(
        scope=ReportScope.REQUEST, request=request, title="Request #1", requested_by=alice, sha256="ab" * 32, pages=3
    )
    period = Report.objects.create(scope=ReportScope.PERIOD, team=other_team, title="Q4", requested_by=alice)
    nobody = Report.objects.create(scope=ReportScope.PERIOD, title="All", requested_by=alice)

    def event_for(r):
        return AuditEvent(action="report.generated", object_type="reports.report", object_id=str(r.pk), data={})

    ready = subject_of(event_for(report))
    assert ready.team_id == team.pk
    assert ready.payload["report"]["sha256"] == "ab" * 32 and ready.payload["report"]["pages"] == 3
    assert ready.payload["report"]["url"].endswith(f"/reports/{report.pk}/")
    assert subject_of(event_for(period)).team_id == other_team.pk
    assert subject_of(event_for(nobody)).team_id is None  # told to no team


def test_gates_finished_lists_each_gate_of_the_round(alice, version):
    from governance.gates.models import GateRun

    request = promotion_request(user=alice, version=version, to_stage="staging", justification="x")
    GateRun.objects.create(
        request=request,
        gate_id="auc",
        gate_type="performance",
        position=0,
        status="failed",
        outcome={"value": 0.71, "threshold": 0.75},
        round=request.gate_round,
    )
    GateRun.objects.create(request=request, gate_id="p95", gate_type="latency", position=1, status="passed")
    GateRun.objects.create(request=request, gate_id="old", gate_type="latency", status="failed", round=99)
    event = AuditEvent(
        action="promotion.gates_failed", object_type="approvals.promotionrequest", object_id=str(request.pk)
    )
    subject = subject_of(event)
    assert subject.payload["outcome"] == "failed"
    assert subject.payload["gates"] == [
        {"gate_id": "auc", "type": "performance", "status": "failed", "value": 0.71, "threshold": 0.75},
        {"gate_id": "p95", "type": "latency", "status": "passed", "value": None, "threshold": None},
    ]
