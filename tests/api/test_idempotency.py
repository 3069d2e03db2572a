"""Idempotency-Key on the API's creating POSTs (issue 13, API completeness)."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest
from django.db import connection

from governance.api.models import IdempotencyRecord
from governance.approvals.models import PromotionRequest
from governance.evidence.models import Artifact
from governance.policies.services import policy_publish
from governance.registry.models import ModelVersion
from tests.api.test_promotion_flow import assert_error
from tests.factories import api_client, grant, make_model, make_team, make_user

POLICY = """
name: idem
applies_to: {models: [churn]}
transitions:
  draft->staging:
    gates: []
    approvals: [{role: reviewer}]
"""

HEADER = "Idempotency-Key"


def version_body(seed: int = 7) -> dict:
    return {
        "artifact_uri": f"s3://m/churn/{seed}",
        "artifact_sha256": hashlib.sha256(str(seed).encode()).hexdigest(),
        "code_hash": hashlib.sha1(b"c").hexdigest(),
        "data_snapshot_id": "snap-1",
        "training_config": {"lr": 0.1},
        "seed": seed,
    }


@pytest.fixture
def world(db):
    team = make_team("growth")
    users = {name: make_user(name) for name in ("pipe", "other")}
    for user in users.values():
        grant(user, "mlops", team=team)
    make_model("churn", team=team)
    policy_publish(text=POLICY)
    return users


def post(client, url, body, key, **kwargs):
    kwargs.setdefault("format", "json")
    return client.post(url, body, HTTP_IDEMPOTENCY_KEY=key, **kwargs)


def test_a_retried_register_answers_the_same_version_and_registers_one(world):
    pipe = api_client(world["pipe"])
    url = "/api/v1/models/churn/versions/"
    first = post(pipe, url, version_body(), "reg-1")
    assert first.status_code == 201, first.content
    again = post(pipe, url, version_body(), "reg-1")
    assert again.status_code == 201
    assert again.json() == first.json() and again.json()["version"] == 1
    assert again["Idempotent-Replayed"] == "true"
    assert ModelVersion.objects.filter(model__name="churn").count() == 1
    # Without the header, or with a new key, it registers again.
    assert post(pipe, url, version_body(8), "reg-2").json()["version"] == 2
    assert ModelVersion.objects.count() == 2


def test_a_retried_promotion_answers_the_same_request(world):
    pipe = api_client(world["pipe"])
    assert post(pipe, "/api/v1/models/churn/versions/", version_body(), "v").status_code == 201
    url = "/api/v1/models/churn/versions/1/promotions/"
    body = {"to_stage": "staging", "justification": "first"}
    first = post(pipe, url, body, "promo-1")
    assert first.status_code == 201, first.content
    again = post(pipe, url, body, "promo-1")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert PromotionRequest.objects.count() == 1


def test_the_same_key_with_another_body_is_a_409_naming_the_header(world):
    pipe = api_client(world["pipe"])
    url = "/api/v1/models/churn/versions/"
    assert post(pipe, url, version_body(), "k").status_code == 201
    assert_error(post(pipe, url, version_body(9), "k"), 409, "conflict", HEADER)
    # Another endpoint with the same key is another request too.
    body = {"name": "fraud", "team": "growth", "risk_tier": "high"}
    assert_error(post(pipe, "/api/v1/models/", body, "k"), 409, "conflict", HEADER)
    assert ModelVersion.objects.count() == 1


def test_keys_are_per_user(world):
    url = "/api/v1/models/churn/versions/"
    assert post(api_client(world["pipe"]), url, version_body(), "shared").json()["version"] == 1
    other = post(api_client(world["other"]), url, version_body(), "shared")
    assert other.status_code == 201 and other.json()["version"] == 2
    assert "Idempotent-Replayed" not in other


@pytest.mark.parametrize("key", ["x" * 201, "a\x00b", "", "tab\there"])
def test_a_bad_key_is_a_400_naming_the_header(world, key):
    r = post(api_client(world["pipe"]), "/api/v1/models/churn/versions/", version_body(), key)
    assert_error(r, 400, "invalid", HEADER)
    assert not ModelVersion.objects.exists() and not IdempotencyRecord.objects.exists()


def test_a_key_of_200_characters_is_fine(world):
    r = post(api_client(world["pipe"]), "/api/v1/models/churn/versions/", version_body(), "k" * 200)
    assert r.status_code == 201, r.content


def test_a_refused_request_keeps_nothing_and_may_be_retried_fixed(world):
    pipe = api_client(world["pipe"])
    url = "/api/v1/models/churn/versions/"
    bad = dict(version_body(), artifact_sha256="nope")
    assert_error(post(pipe, url, bad, "fix-me"), 400, "invalid", "artifact_sha256")
    assert not IdempotencyRecord.objects.exists()
    assert post(pipe, url, version_body(), "fix-me").status_code == 201


def test_a_retried_upload_stores_one_artifact_and_another_file_is_a_409(world):
    pipe = api_client(world["pipe"])
    assert post(pipe, "/api/v1/models/churn/versions/", version_body(), "v").status_code == 201
    url = "/api/v1/models/churn/versions/1/evidence/"

    def upload(data: bytes):
        f = io.BytesIO(data)
        f.name = "metrics.json"
        return post(pipe, url, {"kind": "metrics", "file": f}, "up-1", format="multipart")

    first = upload(b'{"auc": 0.9}')
    assert first.status_code == 201, first.content
    again = upload(b'{"auc": 0.9}')
    assert again.status_code == 201 and again.json() == first.json()
    assert Artifact.objects.count() == 1
    assert_error(upload(b'{"auc": 0.8}'), 409, "conflict", HEADER)
    assert Artifact.objects.count() == 1


def test_a_retried_period_report_answers_the_same_job(world):
    grant(world["pipe"], "auditor", team=make_team("growth"))
    pipe = api_client(world["pipe"])
    body = {"scope": "period", "since": "2026-01-01T00:00:00Z"}
    first = post(pipe, "/api/v1/reports/", body, "rep-1")
    assert first.status_code == 202, first.content
    again = post(pipe, "/api/v1/reports/", body, "rep-1")
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert again["Location"] == first["Location"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once():
    team = make_team("growth")
    user = make_user("pipe")
    grant(user, "mlops", team=team)
    make_model("churn", team=team)
    barrier = threading.Barrier(4)
    answers: list = []

    def register():
        try:
            client = api_client(user)
            barrier.wait()
            answers.append(post(client, "/api/v1/models/churn/versions/", version_body(), "race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in answers] == [201] * 4
    assert {r.json()["version"] for r in answers} == {1}
    assert ModelVersion.objects.count() == 1
