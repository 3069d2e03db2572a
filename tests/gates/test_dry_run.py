"""Dry runs (issue 13): computed by the real Celery worker, not the web process; POST only;
model owners, MLOps and approvers only; throttled per user; bounded in time; a verdict."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.utils import timezone

from governance.approvals.models import PromotionRequest
from governance.audit.models import AuditEvent
from governance.core.vocabulary import ROLES
from governance.gates.dry_run import dry_run, dry_run_verdict
from governance.gates.models import DryRun, GateRun
from governance.policies.services import policy_publish
from tests.conftest import wait_for
from tests.factories import api_client, grant, make_model, make_team, make_user, make_version, predictions_csv, upload

pytestmark = [pytest.mark.django_db(transaction=True)]

POLICY = """
name: dry
applies_to: {models: [dry-model]}
transitions:
  staging->production:
    gates:
      - {id: auc, type: performance, metric: auc, max_drop: 0.05}
      - {id: p95, type: latency, percentile: 95, max_ms: MAX_MS}
    approvals: [{role: risk_officer}]
"""
URL = "/api/v1/models/dry-model/versions/1/dry-run/"


def _latency(n: int, scale: float = 12.0) -> bytes:
    import numpy as np

    values = np.random.default_rng(5).gamma(4, scale, n)
    return ("latency_ms\n" + "".join(f"{v:.2f}\n" for v in values)).encode()


@pytest.fixture
def world():
    team = make_team("dry")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    model = make_model("dry-model", team=team)
    version = make_version(model, owner, stage="staging")
    upload(owner, version, "predictions", predictions_csv(1500, quality=1.4, baseline_quality=1.2), "p.csv")
    upload(owner, version, "latency", _latency(1500), "latency.csv")
    policy_publish(text=POLICY.replace("MAX_MS", "150"))
    return {"team": team, "owner": owner, "model": model, "version": version}


def _forget_throttle(*users) -> None:
    from governance.api.throttling import DryRunThrottle

    throttle = DryRunThrottle()
    for user in users:
        caches["throttle"].delete(throttle.cache_format % {"scope": "dry_run", "ident": throttle.ident_for(user)})


# --- On the worker ---------------------------------------------------------------------------


@pytest.mark.worker
@override_settings(DRY_RUN_SYNC_WAIT_SECONDS=60)
def test_the_worker_computes_the_gates_and_the_api_answers_the_verdict(world, celery_worker):
    client = api_client(world["owner"])
    _forget_throttle(world["owner"])
    r = client.post(URL, {"to_stage": "production"}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "done" and body["verdict"] == "pass" and body["would_pass"] is True
    assert body["transition"] == "staging->production" and body["policy"] == "dry"
    # The same outcomes as the gate functions computed here (the reference), gate by gate.
    reference = dry_run(version=world["version"], to_stage="production")
    assert [(g["gate_id"], g["status"], g["value"]) for g in body["gates"]] == [
        (g["gate_id"], g["status"], g["value"]) for g in reference["gates"]
    ]
    assert dry_run_verdict(reference) == "pass"
    run = DryRun.objects.get(pk=body["id"])
    assert run.started_at is not None and run.finished_at >= run.started_at
    # Nothing but the dry run itself and the audit of asking for it.
    assert not PromotionRequest.objects.exists() and not GateRun.objects.exists()
    asked = AuditEvent.objects.get(action="dry_run.requested")
    assert asked.model_name == "dry-model" and asked.data["to"] == "production" and asked.data["version"] == 1
    assert not AuditEvent.objects.filter(action__startswith="promotion.").exists()
    # The poll URL answers the same result.
    again = client.get(f"/api/v1/dry-runs/{body['id']}/").json()
    assert again["verdict"] == "pass" and again["gates"] == body["gates"]


@pytest.mark.worker
@override_settings(DRY_RUN_SYNC_WAIT_SECONDS=60)
def test_a_failing_gate_makes_the_verdict_fail(world, celery_worker):
    policy_publish(text=POLICY.replace("MAX_MS", "1"))
    _forget_throttle(world["owner"])
    body = api_client(world["owner"]).post(URL, {"to_stage": "production"}, format="json").json()
    assert body["verdict"] == "fail" and body["failing_gates"] == ["p95"], body
    assert any(p.startswith("p95:") for p in body["problems"])
    # A transition the policy does not name: fail, saying why.
    body = api_client(world["owner"]).post(URL, {"to_stage": "archived"}, format="json").json()
    assert body["verdict"] == "fail" and "has no staging->archived transition" in body["problems"][0]


@pytest.mark.worker
@override_settings(DRY_RUN_SYNC_WAIT_SECONDS=0)
def test_without_a_quick_answer_it_is_202_with_a_url_to_poll(world, stopped_celery_worker):
    client = api_client(world["owner"])
    _forget_throttle(world["owner"])
    r = client.post(URL, {"to_stage": "production"}, format="json")
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["status"] == "queued" and body["verdict"] is None and body["gates"] == []
    assert r["Location"] == f"/api/v1/dry-runs/{body['id']}/" and body["url"].endswith(r["Location"])
    assert client.get(r["Location"]).json()["status"] == "queued"
    stopped_celery_worker.start()
    done = wait_for(
        lambda: (b := client.get(r["Location"]).json())["status"] == "done" and b, timeout=60, message="dry run"
    )
    assert done["verdict"] == "pass"


@pytest.mark.worker
@override_settings(DRY_RUN_TIME_LIMIT_SECONDS=0.02, DRY_RUN_SYNC_WAIT_SECONDS=60)
def test_past_its_time_limit_the_dry_run_says_timed_out(world, celery_worker):
    # Enough rows that the gates take well over 20 ms on the worker.
    upload(world["owner"], world["version"], "predictions", predictions_csv(40000), "big.csv")
    _forget_throttle(world["owner"])
    started = time.monotonic()
    body = api_client(world["owner"]).post(URL, {"to_stage": "production"}, format="json").json()
    assert time.monotonic() - started < 30
    assert body["status"] == "timed_out" and body["verdict"] is None and body["would_pass"] is None, body
    assert "time limit (0.02 s)" in body["error"]
    assert DryRun.objects.get(pk=body["id"]).finished_at is not None


def test_a_run_its_worker_lost_reads_as_timed_out(world):
    run = DryRun.objects.create(
        version=world["version"], from_stage="staging", to_stage="production", requested_by=world["owner"]
    )
    DryRun.objects.filter(pk=run.pk).update(status="running", started_at=timezone.now() - timedelta(hours=1))
    body = api_client(world["owner"]).get(f"/api/v1/dry-runs/{run.pk}/").json()
    assert body["status"] == "timed_out" and "did not finish within" in body["error"]


# --- Who may, how, how often ------------------------------------------------------------------


@override_settings(DRY_RUN_SYNC_WAIT_SECONDS=0)
def test_model_owners_mlops_and_approvers_may_auditors_and_others_not(world, stopped_celery_worker):
    for role in ROLES:
        user = make_user(f"as-{role}")
        grant(user, role, team=world["team"])
        _forget_throttle(user)
        client = api_client(user)
        r = client.post(URL, {"to_stage": "production"}, format="json")
        if role == "auditor":
            assert r.status_code == 403, r.content
            assert "dry run" in r.json()["error"]["message"]
        else:
            assert r.status_code == 202, (role, r.content)
            assert client.get(r["Location"]).status_code == 200
    outsider, admin = make_user("outsider"), make_user("root", is_staff=True)
    _forget_throttle(outsider, admin)
    assert api_client(outsider).post(URL, {"to_stage": "production"}, format="json").status_code == 404
    assert api_client(admin).post(URL, {"to_stage": "production"}, format="json").status_code == 403
    run = DryRun.objects.first()
    auditor = make_user("auditor2")
    grant(auditor, "auditor", team=world["team"])
    assert api_client(auditor).get(f"/api/v1/dry-runs/{run.pk}/").status_code == 403
    assert api_client(outsider).get(f"/api/v1/dry-runs/{run.pk}/").status_code == 404
    assert DryRun.objects.count() == len(ROLES) - 1


def test_a_get_is_405_and_starts_nothing(world):
    r = api_client(world["owner"]).get(URL)
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert not DryRun.objects.exists()


def test_bad_input_is_a_400_naming_the_field(world):
    _forget_throttle(world["owner"])
    r = api_client(world["owner"]).post(URL, {"to_stage": "moon"}, format="json")
    assert r.status_code == 400 and "to_stage" in r.json()["error"]["fields"]
    assert not DryRun.objects.exists()


@override_settings(DRY_RUN_THROTTLE_RATE="2/minute", DRY_RUN_SYNC_WAIT_SECONDS=0)
def test_each_user_is_throttled_with_retry_after(world, stopped_celery_worker):
    other = make_user("ops")
    grant(other, "mlops", team=world["team"])
    _forget_throttle(world["owner"], other)
    client = api_client(world["owner"])
    assert [client.post(URL, {"to_stage": "production"}, format="json").status_code for _ in range(2)] == [202, 202]
    r = client.post(URL, {"to_stage": "production"}, format="json")
    assert r.status_code == 429 and r.json()["error"]["code"] == "throttled"
    assert 0 < int(r["Retry-After"]) <= 60
    assert DryRun.objects.count() == 2
    assert api_client(other).post(URL, {"to_stage": "production"}, format="json").status_code == 202  # per user
    # Polling is not throttled.
    assert client.get(f"/api/v1/dry-runs/{DryRun.objects.first().pk}/").status_code == 200


def test_the_verdict_rule():
    def report(*statuses, problems=()):
        return {"gates": [{"gate_id": str(i), "status": s} for i, s in enumerate(statuses)], "problems": list(problems)}

    assert dry_run_verdict(report("passed", "passed")) == "pass"
    assert dry_run_verdict(report()) == "pass"  # a transition without gates
    assert dry_run_verdict(report(problems=["No policy applies"])) == "fail"
    assert dry_run_verdict(report("passed", "inconclusive")) == "inconclusive"
    assert dry_run_verdict(report("inconclusive", "failed")) == "fail"
    assert dry_run_verdict(report("passed", "error")) == "fail"
