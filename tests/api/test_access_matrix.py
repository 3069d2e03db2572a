"""Every role × every action × (my team, another team), through HTTP.

Allowed actions succeed; denied ones get 403 (or 404 when the object is not even visible),
never 500, and change nothing (audit trail, stages and requests are as before).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken, Team
from governance.accounts.roles import ROLE_NAMES
from governance.approvals.models import Decision, PromotionRequest
from governance.approvals.services import promotion_decide, promotion_request
from governance.audit.models import AuditEvent
from governance.policies.services import policy_publish
from governance.registry.models import ModelVersion
from tests.factories import grant, make_model, make_team, make_user, make_version

pytestmark = pytest.mark.django_db

POLICY = """
name: matrix
applies_to: {risk_tiers: [medium]}
transitions:
  staging->production:
    gates: []
    approvals: [{role: reviewer}]
"""

ACTIONS = ("view", "register_version", "request", "decide", "cancel", "rollback", "grant_role", "read_audit")

ALLOWED = {
    "view": set(ROLE_NAMES),
    "register_version": {"model_owner", "mlops"},
    "request": {"model_owner", "mlops"},
    "decide": {"reviewer"},  # the request below needs a reviewer
    "cancel": {"model_owner", "mlops"},
    "rollback": {"model_owner", "mlops"},
    "grant_role": set(),  # admins only
    # Anyone who may see a model reads its audit trail, in the browser and the API alike.
    "read_audit": set(ROLE_NAMES),
}


@dataclass
class World:
    mine: bool
    model: object
    pending: object
    v3: object


def _build_world(scope_team_is_mine: bool) -> World:
    mine, theirs = make_team("mine"), make_team("theirs")
    requester, approver = make_user("requester"), make_user("approver")
    policy_publish(text=POLICY)
    target_team = mine if scope_team_is_mine else theirs
    for team in (mine, theirs):
        grant(requester, "mlops", team=team)
        grant(approver, "reviewer", team=team)
    model = make_model("target", team=target_team, risk_tier="medium")
    v1, v2 = (make_version(model, requester, stage="staging") for _ in range(2))
    v3 = make_version(model, requester)
    for v in (v1, v2):  # v2 in production replacing v1: something to roll back
        req = promotion_request(user=requester, version=v, to_stage="production", justification="x")
        promotion_decide(user=approver, request=req, decision="approve", reason="ok", risk_class="low")
    pending = promotion_request(user=requester, version=v3, to_stage="staging", justification="x")
    return World(scope_team_is_mine, model, pending, v3)


@pytest.fixture(scope="module", params=[True, False], ids=["my-team", "other-team"])
def world(request, django_db_setup, django_db_blocker):
    """The world of every matrix test, built through the services once per module and side.

    It is written inside a transaction kept open for the module; each test runs in a
    savepoint inside it (pytest-django's per-test transaction), so whatever a test changes
    is rolled back before the next one, and the world itself is rolled back at the end.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world(request.param)
        transaction.set_rollback(True)


def _client_for_role(role: str) -> APIClient:
    """Someone holding `role` on my team, calling the API with their own token."""
    actor = make_user(f"actor-{role}")
    grant(actor, role, team=Team.objects.get(name="mine"))
    _, key = ApiToken.issue(user=actor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _do(action: str, client: APIClient, model, pending, v3):
    name = model.name
    if action == "view":
        return client.get(f"/api/v1/models/{name}/")
    if action == "request":  # retire the deprecated v1
        return client.post(
            f"/api/v1/models/{name}/versions/1/promotions/",
            {"to_stage": "archived", "justification": "retire"},
            format="json",
        )
    if action == "register_version":
        return client.post(
            f"/api/v1/models/{name}/versions/",
            {"artifact_uri": "s3://x", "artifact_sha256": hashlib.sha256(b"z").hexdigest()},
            format="json",
        )
    if action == "decide":
        return client.post(
            f"/api/v1/promotions/{pending.pk}/decisions/",
            {"decision": "approve", "reason": "ok", "risk_class": "low"},
            format="json",
        )
    if action == "cancel":
        return client.post(f"/api/v1/promotions/{pending.pk}/cancel/", {"reason": "no"}, format="json")
    if action == "rollback":
        return client.post(f"/api/v1/models/{name}/rollback/", {"reason": "incident"}, format="json")
    if action == "grant_role":
        return client.post("/api/v1/roles/", {"user": "requester", "role": "auditor", "model": name}, format="json")
    if action == "read_audit":
        return client.get(f"/api/v1/audit/?model={name}")
    raise AssertionError(action)


def _state():
    # A refused decision is audited on purpose (promotion.decision_refused); nothing else may change.
    return (
        AuditEvent.objects.exclude(action="promotion.decision_refused").count(),
        tuple(ModelVersion.objects.order_by("pk").values_list("stage", flat=True)),
        tuple(PromotionRequest.objects.order_by("pk").values_list("status", flat=True)),
        Decision.objects.count(),
    )


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_access_matrix(world, role, action):
    mine = world.mine
    client = _client_for_role(role)
    before = _state()
    response = _do(action, client, world.model, world.pending, world.v3)
    assert response.status_code < 500, response.content
    allowed = mine and role in ALLOWED[action]
    if allowed:
        assert response.status_code in (200, 201), (role, action, response.content)
    else:
        expected = 403 if (mine or action == "grant_role") else 404
        assert response.status_code == expected, (role, action, mine, response.content)
        assert response.json()["error"]["code"] in ("forbidden", "not_found")
        assert _state() == before, "a denied action changed something"
        if mine and action == "decide":
            refused = AuditEvent.objects.filter(action="promotion.decision_refused").last()
            assert refused is not None and refused.data["code"] == "forbidden" and refused.data["reason"]


def test_admin_may_grant_and_revoke_roles(admin_user):
    team = make_team("t")
    user = make_user("u")
    _, key = ApiToken.issue(user=admin_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    r = client.post("/api/v1/roles/", {"user": "u", "role": "auditor", "team": "t"}, format="json")
    assert r.status_code == 200, r.content
    from governance.registry.selectors import models_visible_to

    make_model("visible", team=team)
    assert list(models_visible_to(user).values_list("name", flat=True)) == ["visible"]
    r = client.delete("/api/v1/roles/", {"user": "u", "role": "auditor", "team": "t"}, format="json")
    assert r.status_code == 200
    assert not models_visible_to(user).exists()
    r = client.post("/api/v1/roles/", {"user": "u", "role": "wizard", "team": "t"}, format="json")
    assert r.status_code == 400 and "role" in r.json()["error"]["fields"]
    r = client.post("/api/v1/roles/", {"user": "u", "role": "auditor", "team": "t", "model": "visible"}, format="json")
    assert r.status_code == 400
