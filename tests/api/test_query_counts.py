"""What the API's busiest reads cost in SQL queries, pinned so a regression fails.

The request API resolves the caller's roles on the model once (with the approvers', two
queries on the grant tables) for the view check, the decision right and the gate
acceptances; before, it asked three more times. A personal token costs one query (whether
it has teams comes with it). The lists cost the same number of queries whatever their
length, and read plain rows (no model instances, no join for what they do not show).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken, Team
from governance.api.serializers import ModelOut
from governance.approvals.models import Decision
from governance.audit.models import AuditEvent
from governance.audit.services import audit_record
from governance.registry.selectors import models_for_list
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
User = get_user_model()

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


# A personal token and its last-used stamp (written on a token's first call of a minute);
# the list's count and its page.
LIST_QUERIES = 4


def _list_world(n: int, start: int = 0):
    team = make_team("lists") if start == 0 else Team.objects.get(name="lists")
    models = bulk_models(n, team=team, start=start)
    owner = User.objects.filter(username="l-owner").first() or make_user("l-owner")
    bulk_versions(models[::2], owner, version=1, stage="production")
    return team


def test_the_model_list_costs_the_same_queries_at_5_and_120_models():
    team = _list_world(5)
    reader = make_user("l-reader")
    grant(reader, "auditor", team=team)
    client = api_client(reader)
    small, small_sqls = _get(client, "/api/v1/models/?page_size=500")
    _list_world(115, start=5)
    ApiToken.objects.filter(user=reader).update(last_used_at=None)  # a first call again, like the small one
    big, big_sqls = _get(client, "/api/v1/models/?page_size=500")
    assert small["count"] == 5 and big["count"] == len(big["results"]) == 120
    assert len(small_sqls) == len(big_sqls) == LIST_QUERIES, "\n".join(big_sqls)
    # each row is what the ModelOut serializer makes of the model (the list's former path)
    assert big["results"] == [dict(row) for row in ModelOut(models_for_list(reader), many=True).data]
    assert {row["production_version"] for row in big["results"]} == {1, None}


def test_a_service_tokens_list_is_scoped_and_costs_one_query_more():
    team, other = _list_world(3), make_team("elsewhere")
    bulk_models(2, team=other, prefix="x")
    reader = make_user("l-reader")
    grant(reader, "auditor", team=team)
    grant(reader, "auditor", team=other)
    token, key = ApiToken.issue(user=reader)
    token.teams.set([other])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    body, sqls = _get(client, "/api/v1/models/")
    assert [m["name"] for m in body["results"]] == ["x0000", "x0001"]
    assert len(sqls) == LIST_QUERIES + 1  # the token's teams
    assert _get(api_client(reader), "/api/v1/models/")[0]["count"] == 5


def test_the_audit_list_reads_plain_rows_in_a_fixed_number_of_queries():
    team = _list_world(3)
    reader = make_user("l-auditor")
    grant(reader, "auditor", team=team)
    for i in range(30):
        audit_record(actor=reader, action="model.exported", model_name="m0000", data={"i": i})
    body, sqls = _get(api_client(reader), "/api/v1/audit/?page_size=500")
    assert body["count"] == len(body["results"]) >= 30
    row = body["results"][-1]
    event = AuditEvent.objects.get(seq=row["seq"])
    assert row == {
        "seq": event.seq,
        "created_at": event.created_at.isoformat(),
        "actor": "l-auditor",
        "action": "model.exported",
        "object_type": event.object_type,
        "object_id": event.object_id,
        "model": "m0000",
        "data": {"i": 29},
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
    assert len(sqls) == LIST_QUERIES
    page = sqls[-1]
    assert "audit_auditevent" in page and "auth_user" not in page  # no join for the actor it does not show
