"""Approvals people can trust: bound to what was seen, separation of duties, the changes loop,
the approval terms a request freezes, refusals on the record."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied

from governance.approvals.models import Decision, PromotionRequest, RequestStatus
from governance.approvals.services import (
    PromotionError,
    promotion_decide,
    promotion_request,
    promotion_resubmit,
)
from governance.audit.models import AuditEvent
from governance.evidence.services import document_save
from governance.notifications.models import Notification
from governance.policies.services import policy_publish
from tests.factories import COMPLETE_DOCUMENTS, grant, make_user, make_version, upload

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

POLICY = """
name: trust-{name}
applies_to: {{models: [{model}]}}
transitions:
  draft->staging:
    gates: []
    approvals: [{{role: reviewer, count: 2}}]
    experiment_allowed: {experiment}
    ticket_pattern: "CHG-[0-9]+"
    ticket_example: CHG-1042
    exclude_from_approval: [evidence_uploaders]
  staging->production:
    gates: []
    approvals: [{{role: reviewer}}]
"""
EMERGENCY = "    emergency: {bypassable_gates: [p95], max_bypass_hours: 24, post_incident_review_within_hours: 72}\n"


def _policy(version, admin_user, *, experiment="true", production_gates=None):
    text = POLICY.format(name=version.model.name, model=version.model.name, experiment=experiment)
    if production_gates:
        text = text.replace(
            "  staging->production:\n    gates: []", "  staging->production:\n    gates: " + production_gates
        )
        text += EMERGENCY
    policy_publish(text=text, author=admin_user, reason="test")


def _file(user, version, **kw):
    return promotion_request(user=user, version=version, to_stage="staging", justification="ready", **kw)


def _approve(user, request, ticket="CHG-1", **kw):
    return promotion_decide(
        user=user, request=request, decision="approve", reason="read it all", risk_class="low", ticket_id=ticket, **kw
    )


@pytest.fixture
def reviewers(team):
    people = [make_user(name) for name in ("rita", "ravi", "rosa")]
    for person in people:
        grant(person, "reviewer", team=team)
    return people


def test_a_request_freezes_its_approval_terms(alice, version, admin_user):
    _policy(version, admin_user)
    request = _file(alice, version)
    assert (request.ticket_pattern, request.ticket_example) == ("CHG-[0-9]+", "CHG-1042")
    assert request.exclude_from_approval == ["evidence_uploaders"]
    policy_publish(
        text=POLICY.format(name=version.model.name, model=version.model.name, experiment="true")
        .replace("CHG-[0-9]+", "INC-[0-9]+")
        .replace("CHG-1042", "INC-1"),
        author=admin_user,
        reason="later edit",
    )
    request.refresh_from_db()
    assert request.ticket_pattern == "CHG-[0-9]+"


def test_the_ticket_must_match_the_policy_format(alice, version, admin_user, reviewers):
    _policy(version, admin_user)
    request = _file(alice, version)
    with pytest.raises(PromotionError, match="they look like CHG-1042") as refused:
        _approve(reviewers[0], request, ticket="JIRA 12")
    assert refused.value.field == "ticket_id"
    with pytest.raises(PromotionError, match="needs a ticket ID"):
        _approve(reviewers[0], request, ticket="")
    assert not Decision.objects.exists()


def test_the_author_of_the_version_never_approves_it(team, alice, admin_user, reviewers, model):
    author = reviewers[2]
    grant(author, "mlops", team=team)
    version = make_version(model, author)  # rosa registered it and is also a reviewer
    _policy(version, admin_user)
    request = _file(alice, version)
    with pytest.raises(PermissionDenied, match="You registered this version"):
        _approve(author, request)
    refused = AuditEvent.objects.get(action="promotion.decision_refused")
    assert refused.actor_label == "rosa" and "registered this version" in refused.data["reason"]


def test_a_policy_may_bar_evidence_uploaders_too(team, alice, version, admin_user, reviewers):
    _policy(version, admin_user)
    uploader = reviewers[0]
    grant(uploader, "mlops", team=team)
    upload(uploader, version, "metrics", json.dumps({"auc": 0.8}).encode(), "metrics.json")
    request = _file(alice, version)
    with pytest.raises(PermissionDenied, match="evidence uploaders of this version"):
        _approve(uploader, request)
    _approve(reviewers[1], request)  # someone who did not upload may


def test_self_approval_is_refused_and_audited_in_the_api_and_the_browser(client, team, alice, version, admin_user):
    from rest_framework.test import APIClient

    from governance.accounts.models import ApiToken

    grant(alice, "reviewer", team=team)
    request = promotion_request(user=alice, version=version, to_stage="staging", justification="mine")
    _, key = ApiToken.issue(user=alice)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    body = {"decision": "approve", "reason": "trust me", "risk_class": "low", "ticket_id": "X"}
    response = api.post(f"/api/v1/promotions/{request.pk}/decisions/", body, format="json")
    assert response.status_code == 403 and "separation of duties" in response.json()["error"]["message"]
    client.force_login(alice)
    page = client.post(f"/requests/{request.pk}/decide/", {**body, "ticket_id": "X"})
    assert page.status_code == 400 and "separation of duties" in page.content.decode()
    refusals = AuditEvent.objects.filter(action="promotion.decision_refused", actor_label="alice")
    assert refusals.count() == 2 and all("separation of duties" in e.data["reason"] for e in refusals)
    assert not Decision.objects.exists()


def test_new_evidence_makes_earlier_approvals_stale_and_asks_their_authors_again(alice, version, admin_user, reviewers):
    _policy(version, admin_user)
    request = _file(alice, version)
    first = _approve(reviewers[0], request)
    assert first.round == 1 and len(first.manifest_sha256) == 64
    assert first.manifest["policy_sha256"] == request.policy_sha256

    document_save(user=alice, version=version, kind="model_card", fields=COMPLETE_DOCUMENTS["model_card"])
    request.refresh_from_db()
    assert request.gate_round == 2 and request.status == RequestStatus.AWAITING_APPROVALS  # no gates: straight back
    assert AuditEvent.objects.filter(action="promotion.gates_restarted", data__round=2).exists()

    from governance.approvals.selectors import request_slot_state

    state = request_slot_state(request)
    assert not any(slot.decision for slot in state.slots)  # the old approval fills nothing
    assert [d.pk for d, _ in state.stale] == [first.pk]
    again = Notification.objects.get(recipient=reviewers[0], kind="approval_stale")
    assert "model card revised (none → r1)" in again.message
    assert Notification.objects.filter(recipient=reviewers[1], kind="approval_needed").count() == 2  # per round

    second = _approve(reviewers[0], request)  # the same person may approve the new round
    _approve(reviewers[1], request)
    request.refresh_from_db()
    assert second.round == 2 and request.status == RequestStatus.PROMOTED
    assert second.manifest_sha256 != first.manifest_sha256


def test_request_changes_returns_it_to_the_requester_and_resubmit_runs_the_gates_again(
    alice, bob, version, admin_user, reviewers
):
    _policy(version, admin_user)
    request = _file(alice, version)
    _approve(reviewers[0], request)
    promotion_decide(
        user=bob,
        request=request,
        decision="request_changes",
        reason="add the model card",
        risk_class="medium",
        ticket_id="CHG-7",
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.CHANGES_REQUESTED and request.is_open and not request.is_decidable
    assert Notification.objects.filter(recipient=alice, kind="changes_requested").exists()
    with pytest.raises(PromotionError):  # the version still has its open request
        promotion_request(user=alice, version=version, to_stage="staging", justification="again")

    document_save(user=alice, version=version, kind="model_card", fields=COMPLETE_DOCUMENTS["model_card"])
    request.refresh_from_db()
    assert request.status == RequestStatus.CHANGES_REQUESTED  # waits for the requester
    with pytest.raises(PermissionDenied):
        promotion_resubmit(user=reviewers[2], request=request, note="not mine to send")
    promotion_resubmit(user=alice, request=request, note="model card added")
    request.refresh_from_db()
    assert request.gate_round == 2 and request.status == RequestStatus.AWAITING_APPROVALS
    assert Decision.objects.filter(request=request).count() == 2  # history kept
    _approve(reviewers[1], request)
    _approve(reviewers[2], request)
    request.refresh_from_db()
    assert request.status == RequestStatus.PROMOTED


def test_experiment_allowed_false_is_enforced(alice, version, admin_user):
    _policy(version, admin_user, experiment="false")
    with pytest.raises(PromotionError, match="experiment_allowed is false") as refused:
        _file(alice, version, change_type="experiment")
    assert refused.value.field == "change_type"


def test_an_experiment_never_reaches_production(alice, model, admin_user):
    version = make_version(model, alice, stage="staging")
    _policy(version, admin_user)
    with pytest.raises(PromotionError, match="staging only, never production"):
        promotion_request(
            user=alice, version=version, to_stage="production", change_type="experiment", justification="try"
        )


def test_an_emergency_bypasses_only_what_the_policy_allows(alice, model, admin_user):
    version = make_version(model, alice, stage="staging")
    _policy(
        version,
        admin_user,
        production_gates="[{id: p95, type: latency, max_ms: 120}, {id: repro, type: reproducibility}]",
    )
    kw = dict(user=alice, version=version, to_stage="production", change_type="emergency", justification="outage")
    with pytest.raises(PromotionError, match="does not let repro be bypassed") as refused:
        promotion_request(ticket_id="INC-9", bypass_gates=["repro"], **kw)
    assert refused.value.field == "bypass_gates"
    request = promotion_request(ticket_id="INC-9", bypass_gates=["p95"], **kw)
    assert request.bypassed_gates == ["p95"]


def test_the_comparison_with_production_is_frozen_into_the_request(alice, bob, model, admin_user):
    production = make_version(model, alice, stage="production")
    upload(alice, production, "metrics", json.dumps({"auc": 0.80}).encode(), "metrics.json")
    candidate = make_version(model, alice, stage="staging")
    upload(alice, candidate, "metrics", json.dumps({"auc": 0.82}).encode(), "metrics.json")
    _policy(candidate, admin_user)
    request = promotion_request(user=alice, version=candidate, to_stage="production", justification="better")
    promotion_decide(user=bob, request=request, decision="approve", reason="ok", risk_class="low")
    request = PromotionRequest.objects.get(pk=request.pk)
    assert request.status == RequestStatus.PROMOTED
    rows = {row["label"]: row for row in request.comparison["rows"]}
    assert request.comparison["production_version"] == production.version
    assert rows["auc (declared)"]["production"] == 0.80 and rows["auc (declared)"]["candidate"] == 0.82
    # After the promotion the candidate is production itself; the page still shows what was signed.
    page = bob and __import__("django.test", fromlist=["Client"]).Client()
    page.force_login(bob)
    html = page.get(f"/requests/{request.pk}/").content.decode()
    assert "auc (declared)" in html and "production was" in html
