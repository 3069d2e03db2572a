"""A pipeline drives draft → staging → production through the API with distinct tokens."""

from __future__ import annotations

import hashlib

import pytest
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken
from governance.approvals.models import PromotionRequest
from governance.audit.models import AuditEvent
from governance.policies.services import policy_publish
from governance.registry.models import ModelVersion
from tests.factories import api_client, grant, make_team, make_user

pytestmark = pytest.mark.django_db

POLICY = """
name: api-flow
applies_to: {models: [churn]}
transitions:
  staging->production:
    gates: []
    approvals: [{role: model_owner}, {role: risk_officer}]
"""


@pytest.fixture
def people(db):
    team = make_team("growth")
    people = {name: make_user(name) for name in ("pipeline", "owner", "lead", "risk", "outsider")}
    grant(people["pipeline"], "mlops", team=team)
    grant(people["owner"], "model_owner", team=team)
    grant(people["lead"], "reviewer", team=team)
    grant(people["risk"], "risk_officer", team=team)
    return {name: api_client(user) for name, user in people.items()}


def assert_error(response, status: int, code: str | None = None, field: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    if field:
        assert field in body["error"]["fields"], body
    return body["error"]


def test_it_drives_a_full_promotion_through_the_api(people):
    pipe, owner, lead, risk = people["pipeline"], people["owner"], people["lead"], people["risk"]
    policy_publish(text=POLICY)
    r = pipe.post(
        "/api/v1/models/",
        {"name": "churn", "team": "growth", "risk_tier": "high", "description": "Churn"},
        format="json",
    )
    assert r.status_code == 201, r.content
    r = pipe.post(
        "/api/v1/models/churn/versions/",
        {
            "artifact_uri": "s3://m/churn/1",
            "artifact_sha256": hashlib.sha256(b"m1").hexdigest(),
            "code_hash": hashlib.sha1(b"c").hexdigest(),
            "data_snapshot_id": "snap-1",
            "training_config": {"lr": 0.1},
            "seed": 7,
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["version"] == 1 and r.json()["stage"] == "draft"
    assert len(r.json()["training_config_sha256"]) == 64

    r = pipe.post(
        "/api/v1/models/churn/versions/1/promotions/", {"to_stage": "staging", "justification": "first"}, format="json"
    )
    assert r.status_code == 201, r.content
    staging_id = r.json()["id"]
    assert r.json()["status"] == "awaiting_approvals"
    assert [s["role"] for s in r.json()["slots"]] == ["reviewer"]

    # The pipeline cannot approve its own request; the reviewer can.
    assert_error(
        pipe.post(
            f"/api/v1/promotions/{staging_id}/decisions/",
            {"decision": "approve", "reason": "ok", "risk_class": "low"},
            format="json",
        ),
        403,
        "forbidden",
    )
    r = lead.post(
        f"/api/v1/promotions/{staging_id}/decisions/",
        {"decision": "approve", "reason": "reviewed", "risk_class": "low", "ticket_id": "ML-1"},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "promoted"

    # Experiment to production is refused; a standard request waits for two sign-offs.
    assert_error(
        pipe.post(
            "/api/v1/models/churn/versions/1/promotions/",
            {"to_stage": "production", "change_type": "experiment", "justification": "x"},
            format="json",
        ),
        400,
        field="change_type",
    )
    r = pipe.post(
        "/api/v1/models/churn/versions/1/promotions/",
        {"to_stage": "production", "justification": "beats baseline", "ticket_id": "CHG-9"},
        format="json",
    )
    assert r.status_code == 201, r.content
    prod_id = r.json()["id"]
    assert r.json()["policy"]["name"] == "api-flow" and len(r.json()["policy"]["sha256"]) == 64
    assert_error(
        pipe.post(
            "/api/v1/models/churn/versions/1/promotions/",
            {"to_stage": "production", "justification": "again"},
            format="json",
        ),
        409,
        "conflict",
    )

    r = owner.post(
        f"/api/v1/promotions/{prod_id}/decisions/",
        {"decision": "approve", "reason": "owner ok", "risk_class": "medium"},
        format="json",
    )
    assert r.status_code == 201 and r.json()["status"] == "awaiting_approvals"
    assert_error(
        owner.post(
            f"/api/v1/promotions/{prod_id}/decisions/",
            {"decision": "approve", "reason": "again", "risk_class": "medium"},
            format="json",
        ),
        409,
        "duplicate",
    )
    r = risk.post(
        f"/api/v1/promotions/{prod_id}/decisions/",
        {"decision": "approve", "reason": "risk ok", "risk_class": "medium", "ticket_id": "RISK-3"},
        format="json",
    )
    assert r.status_code == 201 and r.json()["status"] == "promoted"
    assert [a["user"] for a in r.json()["approvals"]] == ["owner", "risk"]
    assert ModelVersion.objects.get(model__name="churn", version=1).stage == "production"

    # Wrong transition: production → staging is not allowed.
    assert_error(
        pipe.post(
            "/api/v1/models/churn/versions/1/promotions/",
            {"to_stage": "staging", "justification": "back"},
            format="json",
        ),
        400,
        "invalid_transition",
        "to_stage",
    )

    # One rule for who reads which events: the pipeline's mlops user sees what the owner sees.
    events = owner.get("/api/v1/audit/?model=churn").json()
    assert pipe.get("/api/v1/audit/?model=churn").json() == events
    actions = [e["action"] for e in events["results"]]
    assert actions[0] == "model.created" and actions.count("promotion.promoted") == 2
    assert AuditEvent.objects.filter(model_name="churn").count() == events["count"]


def test_bad_input_gets_a_json_error_with_the_field_and_writes_nothing(people):
    pipe = people["pipeline"]
    before = (AuditEvent.objects.count(), PromotionRequest.objects.count())
    assert_error(
        pipe.post("/api/v1/models/", {"name": "Bad Name!", "team": "growth", "risk_tier": "high"}, format="json"),
        400,
        field="name",
    )
    assert_error(
        pipe.post("/api/v1/models/", {"name": "ok-name", "team": "nope", "risk_tier": "high"}, format="json"),
        400,
        field="team",
    )
    assert_error(
        pipe.post("/api/v1/models/", {"name": "ok-name", "team": "growth", "risk_tier": "extreme"}, format="json"),
        400,
        field="risk_tier",
    )
    assert_error(pipe.post("/api/v1/models/", "not json", content_type="application/json"), 400)
    pipe.post("/api/v1/models/", {"name": "churn", "team": "growth", "risk_tier": "high"}, format="json")
    assert_error(
        pipe.post("/api/v1/models/churn/versions/", {"artifact_uri": "x", "artifact_sha256": "zz"}, format="json"),
        400,
        field="artifact_sha256",
    )
    assert_error(
        pipe.post(
            "/api/v1/models/churn/versions/",
            {"artifact_uri": "x", "artifact_sha256": "a" * 64, "seed": -1},
            format="json",
        ),
        400,
        field="seed",
    )
    assert_error(
        pipe.post(
            "/api/v1/models/churn/versions/",
            {"artifact_uri": "x", "artifact_sha256": "a" * 64, "training_config": [1, 2]},
            format="json",
        ),
        400,
        field="training_config",
    )
    assert_error(
        pipe.post(
            "/api/v1/models/churn/versions/9/promotions/", {"to_stage": "staging", "justification": "x"}, format="json"
        ),
        404,
        "not_found",
    )
    assert_error(pipe.get("/api/v1/promotions/99999/"), 404, "not_found")
    assert_error(pipe.get("/api/v1/no-such-endpoint/"), 404, "not_found")
    assert_error(APIClient().get("/api/v1/models/"), 401)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token gov_not-a-real-token")
    assert_error(bad.get("/api/v1/models/"), 401)
    assert (AuditEvent.objects.count() - 1, PromotionRequest.objects.count()) == before  # only the one model created


def test_tokens_are_stored_hashed(people):
    token = ApiToken.objects.first()
    assert len(token.key_hash) == 64 and not token.key_hash.startswith("gov_")
