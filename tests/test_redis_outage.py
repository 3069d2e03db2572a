"""A real Redis outage, end to end (issue 14): while Redis is down a promotion POST answers
within 2 s, saves the request and says its gates are queued; once Redis is back, beat's sweep
sends the gates, the worker runs them, and every web worker's first /healthz is a 200.

Everything runs as in production, in processes of the test's own: a redis-server on a free
port (never the machine's shared Redis), gunicorn with two web workers, and a Celery worker
with an embedded beat, all pointed at that Redis and at the test database. The test stops
and restarts its redis-server; nothing is mocked.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis
from django.conf import settings

from governance.accounts.models import ApiToken
from governance.approvals.models import PromotionRequest, RequestStatus
from governance.gates.models import GateRun
from governance.policies.services import policy_publish
from tests.conftest import _worker_env, wait_for
from tests.factories import grant, make_model, make_team, make_user, make_version, upload
from tests.processes import Proc, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

POLICY = """
name: outage
applies_to: {models: [outage-model]}
transitions:
  staging->production:
    gates:
      - {id: p95, type: latency, percentile: 95, max_ms: 150}
      - {id: docs, type: documentation}
    approvals: [{role: risk_officer}]
"""


class PrivateRedis:
    def __init__(self, tmp: Path):
        self.port = free_port()
        self.tmp = tmp
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = Proc(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            dict(os.environ),
            self.tmp / "redis.log",
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        wait_for(lambda: _pings(client), timeout=10, interval=0.05, message="the private redis-server")

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.fixture
def stack(tmp_path, django_db_setup, django_db_blocker):
    from django.db import connection

    private = PrivateRedis(tmp_path)
    private.start()
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    env = _worker_env(db_name) | {
        "REDIS_URL": private.url,
        "CELERY_BROKER_URL": private.url,
        "CELERY_RESULT_BACKEND": private.url,
        "GATE_SWEEP_INTERVAL_SECONDS": "1",
        "WORKER_HEARTBEAT_SECONDS": "1",
        "WORKER_HEARTBEAT_STALE_SECONDS": "10",
    }
    web_port = free_port()
    procs = [
        Proc(
            [sys.executable, "-m", "gunicorn", "governance.wsgi:application", "--workers", "2"]
            + ["--bind", f"127.0.0.1:{web_port}", "--timeout", "60"],
            env,
            tmp_path / "web.log",
        ),
        Proc(
            [sys.executable, "-m", "celery", "-A", "governance", "worker", "-B"]
            + ["--scheduler", "celery.beat:PersistentScheduler", "--schedule-filename", str(tmp_path / "beat-schedule")]
            + ["-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--pool=solo", "-n", "outage@%h"]
            + ["--without-gossip", "--without-mingle", "-l", "info"],
            env,
            tmp_path / "worker.log",
        ),
    ]
    web = httpx.Client(base_url=f"http://127.0.0.1:{web_port}", timeout=30)
    try:
        wait_for(lambda: _healthy(web), timeout=60, message=f"web and worker up (logs in {tmp_path})")
        yield web, private
    finally:
        web.close()
        for proc in procs:
            proc.stop()
        private.stop()


def _healthy(web) -> bool:
    try:
        return web.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def _setup() -> tuple[str, str]:
    team = make_team("outage")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    model = make_model("outage-model", team=team, risk_tier="medium")
    version = make_version(model, owner, stage="staging")
    upload(
        owner, version, "latency", ("latency_ms\n" + "".join(f"{20 + i % 9}\n" for i in range(500))).encode(), "l.csv"
    )
    policy_publish(text=POLICY, reason="test")
    _, key = ApiToken.issue(user=owner)
    return f"/api/v1/models/{model.name}/versions/{version.version}/promotions/", key


def test_a_promotion_answers_fast_while_redis_is_down_and_its_gates_run_when_it_is_back(stack):
    web, private = stack
    path, key = _setup()

    private.stop()
    started = time.monotonic()
    response = web.post(
        path,
        json={"to_stage": "production", "justification": "filed during a Redis outage"},
        headers={"Authorization": f"Token {key}"},
    )
    took = time.monotonic() - started
    print(f"promotion POST with Redis down: {took:.2f} s")
    assert response.status_code == 201, response.text
    assert took < 2.0, f"the POST took {took:.1f} s with Redis down"
    body = response.json()
    assert body["status"] == RequestStatus.AWAITING_GATES
    assert {g["gate_id"]: (g["status"], g["explanation"]) for g in body["gates"]} == {
        "p95": ("pending", "Queued for a worker."),
        "docs": ("pending", "Queued for a worker."),
    }
    saved = PromotionRequest.objects.get(pk=body["id"])  # saved, with its runs waiting
    assert saved.status == RequestStatus.AWAITING_GATES
    assert set(GateRun.objects.filter(request=saved).values_list("status", flat=True)) == {"pending"}
    assert _healthy(web) is False  # and the health check says so

    private.start()
    wait_for(
        lambda: PromotionRequest.objects.get(pk=saved.pk).status != RequestStatus.AWAITING_GATES,
        timeout=60,
        message="the gates to run once Redis is back",
    )
    runs = GateRun.objects.filter(request=saved)
    assert all(run.outcome is not None for run in runs)
    assert runs.get(gate_id="p95").status == "passed"
    # Every web worker's first health check after the outage is a 200 (was one 503 each).
    answers = [web.get("/healthz", headers={"Connection": "close"}) for _ in range(8)]
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
