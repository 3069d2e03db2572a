"""The request page: the live gate panel stays cheap, decisions are refused with the reason."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.approvals.models import Decision
from governance.approvals.services import promotion_request
from governance.audit.models import AuditEvent
from governance.gates.models import GateRun
from tests.factories import (
    bulk_decisions,
    bulk_grant,
    bulk_models,
    bulk_requests,
    bulk_versions,
    grant,
    make_team,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(alice, bob, version):
    request = promotion_request(user=alice, version=version, to_stage="staging", justification="ready for staging")
    # A gate still waiting for a worker, so the page polls.
    GateRun.objects.create(request=request, gate_id="repro", gate_type="reproducibility", position=0)
    return request


def test_the_poll_returns_the_gate_panel_alone(client, bob, pending):
    client.force_login(bob)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/requests/{pending.pk}/gates/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="gates"') and 'hx-trigger="every 2s"' in html
    assert "repro" in html
    # No page around it: no navigation (so no inbox count), no diff, no decision form.
    assert "<nav" not in html and "<html" not in html and 'name="decision"' not in html
    assert not any("approvals_decision" in q["sql"] for q in queries.captured_queries)
    assert len(queries.captured_queries) <= 6


def test_the_poll_stops_and_reloads_once_gates_are_final(client, bob, pending):
    GateRun.objects.filter(request=pending).update(status="passed", outcome={"status": "passed", "gate_id": "repro"})
    pending.status = "awaiting_approvals"
    pending.save(update_fields=["status"])
    client.force_login(bob)
    response = client.get(f"/requests/{pending.pk}/gates/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true" and "hx-trigger" not in response.content.decode()


def test_a_bad_decision_form_is_refused_before_anything_is_written(client, bob, pending):
    client.force_login(bob)
    events = AuditEvent.objects.count()
    response = client.post(f"/requests/{pending.pk}/decide/", {"decision": "sign", "risk_class": "low", "reason": "x"})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert not Decision.objects.exists() and AuditEvent.objects.count() == events


def test_the_requester_is_told_why_in_the_form(client, alice, pending):
    client.force_login(alice)
    response = client.post(
        f"/requests/{pending.pk}/decide/", {"decision": "approve", "risk_class": "low", "reason": "mine"}
    )
    assert response.status_code == 400
    assert "someone else must decide on it (separation of duties)" in response.content.decode()
    assert not Decision.objects.exists()


TWO_REVIEWERS = """
name: two-reviewers
applies_to: {models: [%s]}
transitions:
  draft->staging:
    gates: []
    approvals: [{role: reviewer, count: 2}]
"""


def test_a_second_approval_by_the_same_person_is_refused_on_the_page(client, bob, team, alice, version, admin_user):
    from governance.policies.services import policy_publish

    policy_publish(text=TWO_REVIEWERS % version.model.name, author=admin_user, reason="test")
    request = promotion_request(user=alice, version=version, to_stage="staging", justification="two reviewers")
    assert request.required_approvals == [{"role": "reviewer", "count": 2}]
    client.force_login(bob)
    data = {"decision": "approve", "risk_class": "low", "reason": "fine"}
    assert client.post(f"/requests/{request.pk}/decide/", data).status_code == 302
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert "one person fills at most one slot" in page and 'name="decision"' not in page
    again = client.post(f"/requests/{request.pk}/decide/", data)
    assert again.status_code == 400 and "one person fills at most one slot" in again.content.decode()
    assert Decision.objects.filter(request=request).count() == 1


def test_the_api_says_what_the_caller_may_decide(client, bob, pending):
    from rest_framework.test import APIClient

    from governance.accounts.models import ApiToken

    auditor = make_user("audrey")
    grant(auditor, "auditor", team=pending.version.model.team)
    for user, may in ((bob, True), (auditor, False)):
        _, key = ApiToken.issue(user=user)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        you = api.get(f"/api/v1/promotions/{pending.pk}/").json()["you"]
        assert you["may_decide"] is may
        if may:
            assert you["approve_roles"] == ["reviewer"] and you["why_not"] == ""
        else:
            assert you["approve_roles"] == [] and "none of the roles this request needs" in you["why_not"]


def test_the_page_resolves_the_viewers_roles_once(client):
    """The request is read once and the viewer's roles on its model are resolved once, with
    the approvers' (before: the request twice, the viewer's roles twice more, the author apart)."""
    team = make_team("q-team")
    owner, first, viewer = (make_user(n) for n in ("q-owner", "q-first", "q-viewer"))
    grant(owner, "model_owner", team=team)
    grant(first, "reviewer", team=team)
    grant(viewer, "reviewer", team=team)
    model = bulk_models(1, team=team)[0]
    bulk_grant(viewer, "auditor", [model])
    request = bulk_requests(
        bulk_versions([model], owner, version=2), owner, required_approvals=[{"role": "reviewer", "count": 2}]
    )[0]
    bulk_decisions([request], first)
    client.force_login(viewer)
    client.get(f"/requests/{request.pk}/")  # warms per-process caches (content types, the nav count)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/requests/{request.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "q-first" in page and "q-owner" in page and 'name="decision"' in page
    sqls = [q["sql"] for q in queries.captured_queries]
    reads = [s for s in sqls if s.startswith('SELECT "approvals_promotionrequest"."id"') and "LIMIT 21" in s]
    assert len(reads) == 1, reads
    # roles_for_model's query (a UNION of the two grant tables): none, the page asks once for
    # the viewer and the approvers together (one query per grant table)
    assert not any("UNION" in s and "accounts_teamuserobjectpermission" in s for s in sqls)
    assert sum(s.startswith('SELECT "accounts_teamuserobjectpermission"."user_id"') for s in sqls) == 1
    assert not any(s.startswith('SELECT "auth_user"') and '"auth_user"."id" = ' in s for s in sqls[2:]), sqls
    assert len(sqls) <= 12, "\n".join(sqls)  # with the navigation's inbox count cached
