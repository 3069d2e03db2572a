"""Gate heartbeats through the real Celery worker: a worker killed mid-gate has its gate sent
again within GATE_HEARTBEAT_STALE_SECONDS of the gate's last heartbeat (not the 11 minutes
of issue 14), and a slow gate whose worker is alive is never taken from it.

A gate is made slow without any hook in the code: the test holds an ACCESS EXCLUSIVE lock
on the evidence table from its own PostgreSQL connection, so the gate's first evidence
query waits (as behind a slow disk or a long migration) while its heartbeat thread goes on.
The sweep is called every half second, as beat would call it with a short interval.
"""

from __future__ import annotations

import contextlib
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from governance.approvals.models import PromotionRequest, RequestStatus
from governance.approvals.services import promotion_request
from governance.audit.models import AuditEvent
from governance.gates.models import GateRun
from governance.gates.services import gate_sweep
from governance.policies.services import policy_publish
from tests.conftest import wait_for
from tests.factories import grant, make_model, make_team, make_user, make_version, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

POLICY = """
name: heartbeat
applies_to: {models: [heartbeat-model]}
transitions:
  staging->production:
    gates:
      - {id: p95, type: latency, percentile: 95, max_ms: 150}
    approvals: [{role: risk_officer}]
"""


def _file_request() -> PromotionRequest:
    team = make_team("heartbeat")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    model = make_model("heartbeat-model", team=team, risk_tier="medium")
    version = make_version(model, owner, stage="staging")
    upload(
        owner, version, "latency", ("latency_ms\n" + "".join(f"{20 + i % 9}\n" for i in range(500))).encode(), "l.csv"
    )
    policy_publish(text=POLICY, reason="test")
    return promotion_request(user=owner, version=version, to_stage="production", justification="heartbeat test")


@contextlib.contextmanager
def evidence_locked():
    """Every query on the evidence table waits until the block ends."""
    params = connection.get_connection_params()
    conn = psycopg.connect(
        dbname=params.get("dbname") or connection.settings_dict["NAME"],
        user=params.get("user"),
        host=params.get("host"),
        port=params.get("port"),
        password=params.get("password"),
    )
    try:
        conn.execute("LOCK TABLE evidence_artifact IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        conn.rollback()
        conn.close()


def spawn(worker) -> None:
    """Start the worker process without its ping: the ping would wait behind the held gate."""
    with open(worker.log_path, "ab") as log:
        worker.proc = worker._spawn(log)


def _run(request) -> GateRun:
    return GateRun.objects.get(request=request, gate_id="p95")


def _finished_events(run: GateRun) -> int:
    return AuditEvent.objects.filter(action="gate.finished", object_id=str(run.pk)).count()


def test_a_killed_workers_gate_is_sent_again_once_its_heartbeat_is_stale(stopped_celery_worker, make_worker):
    request = _file_request()
    stale = settings.GATE_HEARTBEAT_STALE_SECONDS
    with evidence_locked():
        spawn(stopped_celery_worker)
        wait_for(lambda: _run(request).status == "running", timeout=30, message="the gate to start")
        first_beat = _run(request).heartbeat_at
        wait_for(
            lambda: _run(request).heartbeat_at > first_beat,
            timeout=settings.GATE_HEARTBEAT_SECONDS * 3,
            message="a heartbeat from the running gate",
        )
        assert gate_sweep() == 0  # alive: not the sweep's business
        stopped_celery_worker.kill()
        killed_at = time.monotonic()
    last_beat = _run(request).heartbeat_at
    assert _run(request).status == "running" and _run(request).attempts == 1

    # Beat's sweep (its own process, not a worker), every half second, until it sends the
    # lost gate again; then a worker takes it.
    swept = 0
    while swept == 0:
        assert time.monotonic() - killed_at < stale + 30, (
            "the sweep never sent the lost gate again",
            {k: v for k, v in vars(_run(request)).items() if k != "_state"},
            str(PromotionRequest.objects.get(pk=request.pk).status),
        )
        swept = gate_sweep()
        if swept == 0:
            time.sleep(0.5)
    resent_at = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        silent_for = (cursor.fetchone()[0] - last_beat).total_seconds()
    print(
        f"lost gate sent again {silent_for:.1f} s after its last heartbeat ({resent_at - killed_at:.1f} s after the kill)"
    )
    # Not before the heartbeat was stale, and within one sweep of it.
    assert stale <= silent_for <= stale + 1.5, silent_for
    assert _run(request).status == "pending"
    make_worker("successor")

    final = wait_for(
        lambda: (r := PromotionRequest.objects.get(pk=request.pk)).status != RequestStatus.AWAITING_GATES and r,
        timeout=30,
        message="the re-sent gate to finish",
    )
    run = _run(request)
    assert run.status == "passed" and run.attempts == 2
    assert _finished_events(run) == 1
    assert final.status == RequestStatus.AWAITING_APPROVALS
    # Done by the sweep long before Redis would hand the lost message back (visibility timeout).
    assert resent_at - killed_at < settings.CELERY_VISIBILITY_TIMEOUT


def test_a_slow_gate_on_a_live_worker_is_never_taken_twice(stopped_celery_worker):
    request = _file_request()
    stale = settings.GATE_HEARTBEAT_STALE_SECONDS
    with evidence_locked():
        spawn(stopped_celery_worker)
        wait_for(lambda: _run(request).status == "running", timeout=30, message="the gate to start")
        started = time.monotonic()
        beats = {_run(request).heartbeat_at}
        # Well past the stale window, below the task's time limit.
        while time.monotonic() - started < min(3 * stale, settings.CELERY_TASK_TIME_LIMIT - 3):
            assert gate_sweep() == 0
            run = _run(request)
            assert run.status == "running" and run.attempts == 1
            beats.add(run.heartbeat_at)
            time.sleep(0.5)
    assert len(beats) >= 3  # the heartbeat went on while the gate waited
    final = wait_for(
        lambda: (r := PromotionRequest.objects.get(pk=request.pk)).status != RequestStatus.AWAITING_GATES and r,
        timeout=30,
        message="the slow gate to finish",
    )
    run = _run(request)
    assert run.status == "passed" and run.attempts == 1
    assert _finished_events(run) == 1
    assert final.status == RequestStatus.AWAITING_APPROVALS
