"""Accepting an inconclusive gate (policy `on_inconclusive: {accept_by: ROLE}`): a named person
of the role accepts it with a reason, recorded as a decision on that gate run, audited, and
counted as their sign-off for separation of duties; the request then moves on like one whose
gates passed. `block` gates still block."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied

from governance.accounts.permissions import AcceptanceFacts, gate_acceptance_right
from governance.accounts.services import role_revoke
from governance.approvals.acceptances import gate_acceptance_state
from governance.approvals.models import GateAcceptance, PromotionRequest, RequestStatus
from governance.approvals.services import promotion_decide, promotion_gate_accept, promotion_request
from governance.approvals.transitions import PromotionError
from governance.audit.models import AuditEvent
from governance.audit.sentences import event_sentence
from governance.audit.services import audit_verify
from governance.gates.models import GateRun
from governance.gates.services import _finish, gate_run_claim, gates_finalize, outcome_envelope
from governance.gates.stats.outcome import judged, undecided
from governance.notifications.models import Notification
from governance.policies.services import policy_publish
from tests.factories import grant, make_model, make_team, make_user, make_version, upload

pytestmark = pytest.mark.django_db

POLICY = """
name: accept-inconclusive
applies_to: {models: [acc-model]}
transitions:
  staging->production:
    gates:
      - id: p95
        type: latency
        percentile: 95
        max_ms: 150
        use_upper_confidence_bound: true
        on_inconclusive: {accept_by: risk_officer}
      - {id: cost, type: cost, max_per_1k: 1}
    approvals: [{role: compliance_officer}, {role: risk_officer}]
"""

NEEDS = "at least 72 latency rows (32 more)"


@dataclass
class World:
    owner: object
    risk: object
    risk2: object
    compliance: object
    reviewer: object
    request: PromotionRequest


def world(policy: str = POLICY) -> World:
    team = make_team("acc-team")
    owner, risk, risk2, compliance, reviewer = (
        make_user(n) for n in ("owner", "rita-risk", "rolf-risk", "cora-compliance", "rev")
    )
    grant(owner, "model_owner", team=team)
    grant(owner, "risk_officer", team=team)  # holds the role, yet requested: may not accept
    grant(risk, "risk_officer", team=team)
    grant(risk2, "risk_officer", team=team)
    grant(compliance, "compliance_officer", team=team)
    grant(reviewer, "reviewer", team=team)
    version = make_version(make_model("acc-model", team=team), owner, stage="staging")
    policy_publish(text=policy)
    request = promotion_request(user=owner, version=version, to_stage="production", justification="better model")
    return World(owner, risk, risk2, compliance, reviewer, request)


def finish(request: PromotionRequest, statuses: dict[str, str]) -> PromotionRequest:
    """Finish the current round's runs with these outcomes (the stored path a worker takes)."""
    for gate_id, status in statuses.items():
        run = GateRun.objects.current().get(request=request, gate_id=gate_id)
        assert gate_run_claim(run.pk)
        if status == "inconclusive":
            result = undecided(
                "p95 upper bound does not exist below 72 requests",
                {"rows": 32, "text": NEEDS},
                metric="latency_p95_ms",
                value=25.0,
                threshold=150.0,
                n=40,
            )
        else:
            result = judged(status == "passed", f"{gate_id} computed", metric="cost_per_1k", value=0.5, threshold=1.0)
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
    return PromotionRequest.objects.get(pk=request.pk)


def waiting(w: World | None = None) -> World:
    w = w or world()
    w.request = finish(w.request, {"p95": "inconclusive", "cost": "passed"})
    return w


def accept(w: World, user, reason: str = "Latency is far below the limit on every run we have.", **kw):
    return promotion_gate_accept(user=user, request=w.request, gate_id="p95", reason=reason, **kw)


def approve(w: World, user, role: str):
    return promotion_decide(user=user, request=w.request, decision="approve", reason="ok", risk_class="low", role=role)


def test_it_waits_for_acceptance_and_tells_the_people_who_may_accept():
    w = waiting()
    assert w.request.status == RequestStatus.AWAITING_APPROVALS
    assert w.request.status_reason == f"Gates inconclusive, awaiting acceptance: p95 (needs {NEEDS}) by a risk officer"
    event = AuditEvent.objects.filter(action="promotion.gates_inconclusive").get()
    assert event.data == {"inconclusive": ["p95"], "accept_by": {"p95": "risk_officer"}}
    assert "p95 may be accepted by a risk officer" in event_sentence(event)
    told = Notification.objects.filter(request=w.request, kind="gate_acceptance_needed")
    # the requester holds the role too, but may not accept: not told
    assert sorted(n.recipient.username for n in told) == ["rita-risk", "rolf-risk"]
    assert NEEDS in told[0].message and "as risk officer you may accept it" in told[0].message
    # approvers are asked only once the gate is accepted
    assert not Notification.objects.filter(request=w.request, kind="approval_needed").exists()


def test_a_risk_officer_accepts_with_a_reason_and_the_request_moves_on_like_passed_gates():
    w = waiting()
    run = GateRun.objects.current().get(request=w.request, gate_id="p95")
    made = accept(w, w.risk, ticket_id="RISK-7")
    assert (made.gate_run_id, made.round, made.user, made.role) == (run.pk, 1, w.risk, "risk_officer")
    assert made.ticket_id == "RISK-7"
    accepted = AuditEvent.objects.filter(action="promotion.gate_accepted").get()
    assert accepted.actor_id == w.risk.pk
    assert accepted.data["gate_id"] == "p95" and accepted.data["needed"]["text"] == NEEDS
    sentence = event_sentence(accepted)
    assert "accepted the inconclusive gate p95" in sentence and "Latency is far below" in sentence
    passed = AuditEvent.objects.filter(action="promotion.gates_passed").get()
    assert passed.data == {"accepted": ["p95"]}
    request = PromotionRequest.objects.get(pk=w.request.pk)
    assert request.status == RequestStatus.AWAITING_APPROVALS
    assert request.status_reason == "All gates passed or were accepted (p95)."
    asked = Notification.objects.filter(request=w.request, kind="approval_needed")
    assert sorted(n.recipient.username for n in asked) == ["cora-compliance", "rolf-risk"]  # not the accepter
    approve(w, w.compliance, "compliance_officer")
    approve(w, w.risk2, "risk_officer")
    assert PromotionRequest.objects.get(pk=w.request.pk).status == RequestStatus.PROMOTED
    assert audit_verify().ok


def test_the_requester_may_not_accept_even_holding_the_role_and_nothing_is_written():
    w = waiting()
    with pytest.raises(PermissionDenied, match="You requested this promotion"):
        accept(w, w.owner)
    assert not GateAcceptance.objects.exists()
    assert not AuditEvent.objects.filter(action="promotion.gate_accepted").exists()
    # the attempt is a governance fact too, like a refused decision
    refused = AuditEvent.objects.filter(action="promotion.gate_acceptance_refused").get()
    assert refused.actor_id == w.owner.pk and refused.data["code"] == "forbidden"
    sentence = event_sentence(refused)
    assert sentence.startswith("Owner was refused to accept the inconclusive gate p95 of request #")
    assert sentence.endswith("You requested this promotion; someone else must accept its gates (separation of duties).")
    assert audit_verify().ok


def test_a_person_without_the_named_role_may_not_accept():
    w = waiting()
    with pytest.raises(PermissionDenied, match="Only someone holding the risk officer role on this model may accept"):
        accept(w, w.reviewer)
    with pytest.raises(PermissionDenied, match="holding the risk officer role"):
        accept(w, w.compliance)
    assert not GateAcceptance.objects.exists()


def test_a_second_acceptance_is_refused():
    w = waiting()
    accept(w, w.risk)
    with pytest.raises(PromotionError, match="rita-risk already accepted") as refused:
        accept(w, w.risk2)
    assert refused.value.code == "duplicate" and refused.value.http_status == 409
    with pytest.raises(PromotionError, match="already accepted"):
        accept(w, w.risk)
    assert GateAcceptance.objects.count() == 1


def test_a_reason_is_required():
    w = waiting()
    with pytest.raises(PromotionError, match="reason is required") as refused:
        accept(w, w.risk, reason="   ")
    assert refused.value.fields == {"reason": [refused.value.message]}


def test_only_an_inconclusive_gate_can_be_accepted_and_an_unknown_gate_is_not_found():
    w = waiting()
    with pytest.raises(PromotionError, match="Only an inconclusive gate") as refused:
        promotion_gate_accept(user=w.risk, request=w.request, gate_id="cost", reason="x")
    assert refused.value.code == "invalid_state"
    with pytest.raises(PromotionError, match="no gate 'nope'") as missing:
        promotion_gate_accept(user=w.risk, request=w.request, gate_id="nope", reason="x")
    assert missing.value.http_status == 404


def test_new_evidence_starts_a_new_round_and_voids_the_acceptance():
    w = waiting()
    accept(w, w.risk)
    upload(w.owner, w.request.version, "latency", b"latency_ms\n" + b"21\n" * 50, "latency.csv")
    request = PromotionRequest.objects.get(pk=w.request.pk)
    assert request.status == RequestStatus.AWAITING_GATES and request.gate_round == 2
    w.request = finish(request, {"p95": "inconclusive", "cost": "passed"})
    assert w.request.status_reason.startswith("Gates inconclusive, awaiting acceptance")
    state = gate_acceptance_state(w.request)
    assert state.awaiting == ["p95"] and state.accepted == {}
    assert GateAcceptance.objects.count() == 1  # the old one stays in the history
    # approving now does not promote: the new round's gate is not accepted
    approve(w, w.compliance, "compliance_officer")
    approve(w, w.risk2, "risk_officer")
    assert PromotionRequest.objects.get(pk=w.request.pk).status == RequestStatus.AWAITING_APPROVALS
    made = accept(w, w.risk)  # the same person may accept the new round's outcome
    assert made.round == 2
    assert PromotionRequest.objects.get(pk=w.request.pk).status == RequestStatus.PROMOTED


def test_the_accepter_fills_no_approval_slot_and_an_approver_may_not_accept():
    w = waiting()
    approve(w, w.risk2, "risk_officer")
    with pytest.raises(PermissionDenied, match="You approved this request; one person signs off once"):
        accept(w, w.risk2)
    accept(w, w.risk)
    with pytest.raises(PermissionDenied, match="You accepted an inconclusive gate of this request"):
        approve(w, w.risk, "risk_officer")
    refused = AuditEvent.objects.filter(action="promotion.decision_refused").get()
    assert refused.actor_id == w.risk.pk


def test_approvals_given_before_the_acceptance_wait_for_it():
    w = waiting()
    approve(w, w.compliance, "compliance_officer")
    approve(w, w.risk2, "risk_officer")
    assert PromotionRequest.objects.get(pk=w.request.pk).status == RequestStatus.AWAITING_APPROVALS
    accept(w, w.risk)
    assert PromotionRequest.objects.get(pk=w.request.pk).status == RequestStatus.PROMOTED


def test_an_acceptance_counts_only_while_its_author_holds_the_role():
    w = waiting()
    accept(w, w.risk)
    role_revoke(actor=None, user=w.risk, role="risk_officer", team=w.request.version.model.team)
    state = gate_acceptance_state(w.request)
    assert state.awaiting == ["p95"] and "no longer holds the risk officer role" in state.stale[0][1]
    approve(w, w.compliance, "compliance_officer")
    approve(w, w.risk2, "risk_officer")
    assert PromotionRequest.objects.get(pk=w.request.pk).status == RequestStatus.AWAITING_APPROVALS
    new = make_user("ruth-risk")
    grant(new, "risk_officer", team=w.request.version.model.team)
    accept(w, new)
    assert PromotionRequest.objects.get(pk=w.request.pk).status == RequestStatus.PROMOTED


def test_a_block_gate_still_blocks_even_when_another_may_be_accepted():
    policy = POLICY.replace(
        "{id: cost, type: cost, max_per_1k: 1}",
        "{id: p99, type: latency, percentile: 99, max_ms: 150, use_upper_confidence_bound: true}",
    )
    w = world(policy)
    w.request = finish(w.request, {"p95": "inconclusive", "p99": "inconclusive"})
    assert w.request.status == RequestStatus.GATES_FAILED
    assert w.request.status_reason == f"Gates inconclusive, blocked by the policy: p99 (needs {NEEDS})"
    with pytest.raises(PromotionError, match="does not wait for decisions") as refused:
        accept(w, w.risk)
    assert refused.value.http_status == 409
    with pytest.raises(PromotionError, match="blocks the request on this inconclusive gate"):
        promotion_gate_accept(user=w.risk, request=w.request, gate_id="p99", reason="x")
    assert not Notification.objects.filter(kind="gate_acceptance_needed").exists()


def test_a_failed_gate_fails_the_request_whatever_the_inconclusive_ones_allow():
    w = world()
    w.request = finish(w.request, {"p95": "inconclusive", "cost": "failed"})
    assert w.request.status == RequestStatus.GATES_FAILED
    assert w.request.status_reason == "Gates failed: cost"


def _facts(**values) -> AcceptanceFacts:
    base = dict(
        user_id=5,
        held_roles=frozenset({"risk_officer"}),
        accept_by="risk_officer",
        gate_inconclusive=True,
        awaiting=True,
        requested_by_id=1,
    )
    return AcceptanceFacts(**(base | values))


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({}, "", ""),
        ({"gate_inconclusive": False}, "invalid_state", "Only an inconclusive"),
        ({"accept_by": ""}, "invalid_state", "on_inconclusive: block"),
        ({"awaiting": False}, "invalid_state", "does not wait"),
        ({"accepted_by": "rita"}, "duplicate", "rita already accepted"),
        ({"requested_by_id": 5}, "forbidden", "You requested"),
        ({"is_author": True}, "forbidden", "You registered this version"),
        ({"excluded_as": "evidence uploader"}, "forbidden", "evidence uploaders"),
        ({"fills_a_slot": True}, "forbidden", "You approved this request"),
        ({"held_roles": frozenset({"reviewer"})}, "forbidden", "holding the risk officer role"),
        ({"accept_by": "auditor", "held_roles": frozenset({"auditor"})}, "forbidden", "holding the auditor role"),
    ],
)
def test_the_acceptance_rule_is_one_pure_function(change, code, words):
    right = gate_acceptance_right(_facts(**change))
    assert right.may_accept == (code == "")
    assert right.code == code and words in right.why_not


def test_the_email_to_a_risk_officer_says_what_is_inconclusive_and_links_to_the_request():
    from governance.notifications.emails import notification_message, request_url

    w = waiting()
    message = notification_message(Notification.objects.get(kind="gate_acceptance_needed", recipient=w.risk))
    assert message.subject.endswith(f"Inconclusive gate to accept: acc-model v1 staging → production (#{w.request.pk})")
    assert f"gate p95 (needs {NEEDS}) is inconclusive; as risk officer you may accept it." in message.body
    assert f"Review the gate and accept it or not: {request_url(w.request.pk)}" in message.body
    assert "you will not also fill one of its approval slots" in message.body
    html = message.alternatives[0][0]
    assert NEEDS in html and request_url(w.request.pk) in html
    if os.environ.get("SHOW_EMAIL"):
        print(message.subject, message.body, sep="\n")


def test_the_request_pdf_lists_the_gate_acceptance_with_the_decisions():
    """Built in-process (the worker's code path, without the queue); text read back with pypdf."""
    import io

    from pypdf import PdfReader

    from governance.reports.build import build_pdf
    from governance.reports.models import Report

    w = waiting()
    accept(w, w.risk, reason="Latency margin is wide; 40 runs suffice.", ticket_id="RISK-5")
    approve(w, w.compliance, "compliance_officer")
    report = Report.objects.create(scope="request", request=w.request, title="acceptance", requested_by=w.compliance)
    pdf, _ = build_pdf(report, lambda *args, **kwargs: None)
    text = " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "GATE ACCEPTANCES" in text  # an h4: upper case in the PDF
    assert "Latency margin is wide; 40 runs suffice." in text and "RISK-5" in text
    assert f"The data it lacked: {NEEDS}" in text
    assert text.index("DECISIONS") < text.index("GATE ACCEPTANCES")


def test_the_approval_email_after_an_acceptance_says_the_gate_was_accepted_not_passed():
    from governance.notifications.emails import notification_message

    w = waiting()
    accept(w, w.risk)
    message = notification_message(Notification.objects.get(kind="approval_needed", recipient=w.compliance))
    assert "Its automated gates passed or, inconclusive, were accepted by a named person (p95)." in message.body
    assert "were accepted by a named person (p95)" in message.alternatives[0][0]


def test_the_people_who_may_accept_find_the_request_waiting_in_their_inbox():
    from governance.approvals.selectors import inbox_for_user

    w = waiting()
    mine = {item.request.pk: item for item in inbox_for_user(w.risk)}
    assert mine[w.request.pk].accept_gates == ["p95"]
    # the requester holds the role but may not accept: nothing to accept in their inbox
    assert all(not item.accept_gates for item in inbox_for_user(w.owner))
    # a compliance officer may approve, not accept
    theirs = {item.request.pk: item for item in inbox_for_user(w.compliance)}
    assert theirs[w.request.pk].accept_gates == [] and theirs[w.request.pk].my_roles == ["compliance_officer"]
    accept(w, w.risk)
    # accepted: nothing left to accept, and the accepter fills no approval slot of this round
    assert w.request.pk not in {item.request.pk for item in inbox_for_user(w.risk)}
    assert {item.request.pk: item for item in inbox_for_user(w.risk2)}[w.request.pk].accept_gates == []


def test_on_a_regulated_model_accepting_asks_for_the_password_like_a_decision(client):
    """An acceptance is a sign-off: on a regulated model an old sign-in must type the
    password again, and a wrong one records nothing (it counts as a failed sign-in)."""
    from datetime import timedelta

    from django.utils import timezone

    from governance.registry.models import RegisteredModel
    from governance.web.reauth import SESSION_KEY
    from tests.factories import PASSWORD

    w = waiting()
    RegisteredModel.objects.filter(pk=w.request.version.model_id).update(risk_tier="regulated")
    client.force_login(w.risk)
    session = client.session
    session[SESSION_KEY] = (timezone.now() - timedelta(minutes=30)).timestamp()
    session.save()
    url = f"/requests/{w.request.pk}/gates/p95/accept/"
    page = client.get(f"/requests/{w.request.pk}/").content.decode()
    assert 'id="accept-p95-password"' in page
    body = {"reason": "Latency is far below the limit on every run we have."}
    refused = client.post(url, body)
    assert refused.status_code == 400 and "Type your password to confirm it is you." in refused.content.decode()
    wrong = client.post(url, {**body, "password": "not-mine"})
    assert wrong.status_code == 400 and "That is not your password" in wrong.content.decode()
    assert not GateAcceptance.objects.exists()
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 1
    assert client.post(url, {**body, "password": PASSWORD}).status_code == 302
    assert GateAcceptance.objects.get().user == w.risk
