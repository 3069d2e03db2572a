"""POST /api/v1/promotions/{id}/gates/{gate_id}/accept/: accepting an inconclusive gate through
the API (201 with the promotion; 400, 403, 404, 409 in the JSON error format), and what the
promotion payload says about each gate's acceptance."""

from __future__ import annotations

import pytest

from governance.approvals.models import GateAcceptance
from governance.audit.models import AuditEvent
from tests.approvals.test_gate_acceptance import NEEDS, approve, waiting, world
from tests.factories import api_client, make_user

pytestmark = pytest.mark.django_db


def _url(request, gate_id: str = "p95") -> str:
    return f"/api/v1/promotions/{request.pk}/gates/{gate_id}/accept/"


def _gate(payload: dict, gate_id: str = "p95") -> dict:
    return next(g for g in payload["gates"] if g["gate_id"] == gate_id)


def test_it_accepts_and_answers_201_with_who_accepted_the_gate():
    w = waiting()
    before = api_client(w.risk).get(f"/api/v1/promotions/{w.request.pk}/").json()
    gate = _gate(before)
    assert gate["status"] == "inconclusive" and gate["details"]["needed"]["text"] == NEEDS
    assert gate["on_inconclusive"] == {"accept_by": "risk_officer"} and gate["acceptance"] is None
    assert gate["acceptors"] == ["rita-risk", "rolf-risk"]
    assert before["you"]["may_accept_gates"] == ["p95"]
    assert _gate(before, "cost")["on_inconclusive"] == "block" and _gate(before, "cost")["acceptors"] == []

    response = api_client(w.risk).post(
        _url(w.request), {"reason": "Far below the limit on 40 runs.", "ticket_id": "RISK-9"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == w.request.pk and body["status"] == "awaiting_approvals"
    assert body["status_reason"] == "All gates passed or were accepted (p95)."
    acceptance = _gate(body)["acceptance"]
    assert acceptance["user"] == "rita-risk" and acceptance["role"] == "risk_officer"
    assert acceptance["reason"] == "Far below the limit on 40 runs." and acceptance["ticket_id"] == "RISK-9"
    assert acceptance["round"] == 1 and acceptance["accepted_at"]
    assert _gate(body)["acceptors"] == [] and body["you"]["may_accept_gates"] == []
    # the outcome contract is unchanged: still inconclusive, never a pass
    assert _gate(body)["status"] == "inconclusive"


def test_a_missing_reason_is_a_400_naming_the_field():
    w = waiting()
    response = api_client(w.risk).post(_url(w.request), {"ticket_id": "X"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "reason" in error["fields"]
    blank = api_client(w.risk).post(_url(w.request), {"reason": "  "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()["error"]["fields"]
    assert not GateAcceptance.objects.exists()


def test_the_requester_and_a_wrong_role_get_403_and_nothing_is_written():
    w = waiting()
    events = AuditEvent.objects.count()
    for user, words in ((w.owner, "You requested this promotion"), (w.reviewer, "risk officer role")):
        response = api_client(user).post(_url(w.request), {"reason": "fine"}, format="json")
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "forbidden" and words in error["message"]
    assert not GateAcceptance.objects.exists()
    # nothing but the two refusals, audited like refused decisions
    assert AuditEvent.objects.count() == events + 2
    assert AuditEvent.objects.filter(action="promotion.gate_acceptance_refused").count() == 2


def test_an_unknown_gate_or_an_unseen_request_is_a_404():
    w = waiting()
    unknown = api_client(w.risk).post(_url(w.request, "nope"), {"reason": "fine"}, format="json")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    stranger = make_user("stranger")
    unseen = api_client(stranger).post(_url(w.request), {"reason": "fine"}, format="json")
    assert unseen.status_code == 404 and unseen.json()["error"]["code"] == "not_found"


def test_a_second_acceptance_and_a_gate_that_is_not_inconclusive_are_409():
    w = waiting()
    assert api_client(w.risk).post(_url(w.request), {"reason": "fine"}, format="json").status_code == 201
    again = api_client(w.risk2).post(_url(w.request), {"reason": "me too"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "duplicate",
        "message": "rita-risk already accepted this gate outcome.",
        "fields": {},
    }
    passed = api_client(w.risk2).post(_url(w.request, "cost"), {"reason": "x"}, format="json")
    assert passed.status_code == 409 and passed.json()["error"]["code"] == "invalid_state"


def test_a_request_still_running_its_gates_is_409():
    w = world()
    response = api_client(w.risk).post(_url(w.request), {"reason": "fine"}, format="json")
    assert response.status_code == 409 and "inconclusive" in response.json()["error"]["message"]


def test_an_approver_of_this_round_gets_403_separation_of_duties():
    w = waiting()
    approve(w, w.risk2, "risk_officer")
    response = api_client(w.risk2).post(_url(w.request), {"reason": "fine"}, format="json")
    assert response.status_code == 403 and "one person signs off once" in response.json()["error"]["message"]
