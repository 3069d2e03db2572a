"""Emergency changes, whole lifecycle: bypass, re-check, expiry and revert, post-incident review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from governance.approvals.models import PostIncidentReview, PromotionRequest
from governance.approvals.reviews import review_submit, reviews_remind
from governance.approvals.services import (
    PromotionError,
    promotion_bypass_recheck,
    promotion_decide,
    promotion_emergency_expire,
    promotion_request,
)
from governance.audit.models import AuditEvent
from governance.gates.models import GateRun
from governance.gates.services import gate_run_execute
from governance.notifications.models import Notification
from governance.policies.services import policy_publish
from tests.factories import grant, make_user, make_version, upload

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

POLICY = """
name: emergency-{model}
applies_to: {{models: [{model}]}}
transitions:
  staging->production:
    gates: [{{id: p95, type: latency, percentile: 95, max_ms: 120}}]
    approvals: [{{role: reviewer}}]
    emergency: {{bypassable_gates: [p95], max_bypass_hours: 24, post_incident_review_within_hours: 72}}
"""


def _latency(ms: float, n: int = 400) -> bytes:
    return ("latency_ms\n" + "".join(f"{ms + (i % 7)}\n" for i in range(n))).encode()


@pytest.fixture
def emergency(team, alice, bob, model, admin_user):
    """v1 in production; v2 (too slow: 300 ms) promoted as an emergency that bypasses p95."""
    risk = make_user("risa")
    grant(risk, "risk_officer", team=team)
    policy_publish(text=POLICY.format(model=model.name), author=admin_user, reason="test")
    v1 = make_version(model, alice, stage="production")
    v2 = make_version(model, alice, stage="staging")
    upload(alice, v2, "latency", _latency(300), "latency.csv")
    request = promotion_request(
        user=alice,
        version=v2,
        to_stage="production",
        change_type="emergency",
        justification="hotfix for the outage",
        ticket_id="INC-42",
        bypass_gates=["p95"],
    )
    assert request.gate_runs.get().status == "bypassed"
    promotion_decide(user=bob, request=request, decision="approve", reason="incident call", risk_class="high")
    request.refresh_from_db()
    assert request.status == "promoted"
    return {"request": request, "v1": v1, "v2": v2, "risk": risk}


def test_a_promoted_emergency_gets_a_review_for_its_owners_and_risk_officers(emergency, alice):
    review = PostIncidentReview.objects.get(request=emergency["request"])
    assert set(review.assignees.all()) == {alice, emergency["risk"]}
    assert review.due_at == emergency["request"].review_due_at
    assert AuditEvent.objects.filter(action="review.assigned").exists()


def test_an_unresolved_bypass_that_expires_is_reverted_through_the_service(emergency, alice):
    request, v1, v2 = emergency["request"], emergency["v1"], emergency["v2"]
    assert promotion_emergency_expire(now=request.bypass_expires_at - timedelta(minutes=1)) == []
    assert promotion_emergency_expire(now=request.bypass_expires_at + timedelta(minutes=1)) == [request.pk]
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.stage, v2.stage) == ("production", "staging")
    event = AuditEvent.objects.get(action="promotion.emergency_reverted")
    assert event.data["moves"] == [f"{v2} back to staging", f"{v1} back to production"]
    assert Notification.objects.filter(kind="emergency_reverted", recipient=alice).exists()
    # Twice is harmless.
    assert promotion_emergency_expire(now=request.bypass_expires_at + timedelta(hours=2)) == []


def test_a_recheck_that_passes_resolves_the_bypass_and_nothing_is_reverted(emergency, alice):
    request, v2 = emergency["request"], emergency["v2"]
    upload(alice, v2, "latency", _latency(80), "latency-fixed.csv")  # the fix is in
    promotion_bypass_recheck(user=alice, request=request)
    run = GateRun.objects.current().get(request=request)
    assert run.round == 2 and run.gate_id == "p95" and run.status == "pending"
    assert gate_run_execute(run_id=run.pk) == "passed"
    from governance.gates.services import gates_finalize

    gates_finalize(request_id=request.pk)
    request.refresh_from_db()
    assert request.bypass_resolved_at is not None and request.status == "promoted"
    assert promotion_emergency_expire(now=request.bypass_expires_at + timedelta(hours=1)) == []
    with pytest.raises(PromotionError, match="nothing left to re-check"):
        promotion_bypass_recheck(user=alice, request=request)


def test_a_recheck_that_fails_keeps_the_bypass_unresolved(emergency, alice):
    request = emergency["request"]
    promotion_bypass_recheck(user=alice, request=request)  # still 300 ms
    run = GateRun.objects.current().get(request=request)
    assert gate_run_execute(run_id=run.pk) == "failed"
    from governance.gates.services import gates_finalize

    gates_finalize(request_id=request.pk)
    request.refresh_from_db()
    assert request.bypass_resolved_at is None
    assert AuditEvent.objects.filter(action="promotion.bypass_recheck_failed").exists()


def test_only_owners_or_mlops_recheck(emergency, bob):
    with pytest.raises(PermissionDenied):
        promotion_bypass_recheck(user=bob, request=emergency["request"])


def test_reviews_are_reminded_before_the_deadline_and_escalated_after(emergency, alice, admin_user, team):
    request = emergency["request"]
    compliance = make_user("cora")
    grant(compliance, "compliance_officer", team=team)
    due = request.review_due_at
    assert reviews_remind(now=due - timedelta(days=2)) == 0  # not yet
    reviews_remind(now=due - timedelta(hours=12))
    assert set(Notification.objects.filter(kind="review_due").values_list("recipient__username", flat=True)) == {
        "alice",
        "risa",
    }
    reviews_remind(now=due + timedelta(hours=1))
    overdue = set(Notification.objects.filter(kind="review_overdue").values_list("recipient__username", flat=True))
    assert overdue == {"alice", "risa", "cora", "admin"}


def test_an_assignee_submits_the_review_with_every_part(emergency, alice, bob):
    request = emergency["request"]
    with pytest.raises(PermissionDenied):
        review_submit(user=bob, request=request, what_happened="x", root_cause="y", follow_ups="z")
    with pytest.raises(PromotionError) as missing:
        review_submit(user=alice, request=request, what_happened="outage", root_cause=" ", follow_ups="")
    assert set(missing.value.fields) == {"root_cause", "follow_ups"}
    review = review_submit(
        user=alice, request=request, what_happened="p99 spike", root_cause="cache", follow_ups="add a test (bob, 12-10)"
    )
    assert review.submitted_by == alice
    assert AuditEvent.objects.filter(action="review.submitted", data__root_cause="cache").exists()
    assert reviews_remind(now=request.review_due_at + timedelta(days=1)) == 0  # done: no more reminders


def test_the_request_page_flags_the_emergency_and_offers_the_review_form(client, emergency, alice):
    client.force_login(alice)
    html = client.get(f"/requests/{emergency['request'].pk}/").content.decode()
    assert "Emergency change" in html and "Re-check the bypassed gates" in html
    assert "Post-incident review" in html and 'name="root_cause"' in html
    response = client.post(f"/requests/{emergency['request'].pk}/review/", {"what_happened": "x"})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert PromotionRequest.objects.get(pk=emergency["request"].pk).review.submitted_at is None
    assert timezone.now() < emergency["request"].review_due_at


def test_in_the_browser_the_requester_ticks_which_gates_to_bypass(client, team, alice, model, admin_user):
    policy_publish(text=POLICY.format(model=model.name), author=admin_user, reason="test")
    version = make_version(model, alice, stage="staging")
    client.force_login(alice)
    page = client.get(f"/models/{model.name}/v{version.version}/").content.decode()
    assert 'name="bypass_gates" value="p95"' in page
    form = {"to_stage": "production", "change_type": "emergency", "ticket_id": "INC-1", "justification": "outage"}
    refused = client.post(f"/models/{model.name}/v{version.version}/promote/", form, follow=True)
    assert "Choose the gates this emergency bypasses" in refused.content.decode()
    assert not PromotionRequest.objects.filter(version=version).exists()
    client.post(f"/models/{model.name}/v{version.version}/promote/", {**form, "bypass_gates": ["p95"]})
    assert PromotionRequest.objects.get(version=version).bypassed_gates == ["p95"]
