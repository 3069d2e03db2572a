"""What the API's busiest reads cost in SQL queries, pinned so a regression fails.

The request API resolves the caller's roles on the model once (with the approvers', two
queries on the grant tables) for the view check, the decision right and the gate
acceptances; before, it asked three more times. A personal token costs one query (whether
it has teams comes with it).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.approvals.models import Decision
from tests.approvals.test_gate_acceptance import approve, waiting
from tests.factories import (
    api_client,
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

# A personal token (whether it has teams comes with it) and its last-used stamp; the
# request, its decisions and their authors; the grants of the caller and the approvers
# (team, model); the gate runs.
REQUEST_API_QUERIES = 8


def _get(client, path: str):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json(), [q["sql"] for q in captured.captured_queries]


def _role_queries(sqls: list[str]) -> int:
    return sum("accounts_teamuserobjectpermission" in sql for sql in sqls)


def test_the_request_api_resolves_the_callers_roles_once():
    w = waiting()
    approve(w, w.compliance, "compliance_officer")
    client = api_client(w.reviewer)
    body, sqls = _get(client, f"/api/v1/promotions/{w.request.pk}/")
    assert body["approvals"][0]["user"] == "cora-compliance"
    assert body["you"]["may_approve"] is False and "none of the roles" in body["you"]["why_not"]
    # One query on team grants for the caller's roles and the approver's (before: four, the
    # caller's asked three times); two for who may accept the waiting gate (holders, their roles).
    assert _role_queries(sqls) == 3
    # + the waiting gate: whether the caller accepted one, its acceptances, who may accept
    # it (the acceptances again, holders' grants on team and model, their roles, the users)
    assert len(sqls) == REQUEST_API_QUERIES + 8, "\n".join(sqls)


def test_the_request_api_costs_a_fixed_number_of_queries():
    team = make_team("q-team")
    owner, first, second, caller = (make_user(n) for n in ("q-owner", "q-first", "q-second", "q-caller"))
    grant(owner, "model_owner", team=team)
    for user in (first, second, caller):
        grant(user, "reviewer", team=team)
    model = bulk_models(1, team=team)[0]
    bulk_grant(caller, "auditor", [model])  # a grant on the model too: both tables answer
    request = bulk_requests(
        bulk_versions([model], owner, version=2), owner, required_approvals=[{"role": "reviewer", "count": 3}]
    )[0]
    bulk_decisions([request], first)
    bulk_decisions([request], second)
    assert Decision.objects.filter(request=request).count() == 2
    body, sqls = _get(api_client(caller), f"/api/v1/promotions/{request.pk}/")
    assert [s["filled_by"] for s in body["slots"]] == ["q-first", "q-second", None]
    assert body["you"]["approve_roles"] == ["reviewer"]
    assert _role_queries(sqls) == 1
    assert len(sqls) == REQUEST_API_QUERIES, "\n".join(sqls)
