"""Gates through the real Celery worker on Redis, against PostgreSQL."""

from __future__ import annotations

import pytest

from governance.approvals.models import PromotionRequest, RequestStatus
from governance.approvals.services import promotion_request
from governance.gates.models import GateRun
from governance.policies.services import policy_publish
from tests.conftest import wait_for
from tests.factories import attach_full_evidence, grant, make_model, make_team, make_user, make_version

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

EIGHT_GATES = """
name: eight-gates
applies_to: {models: [scoring]}
transitions:
  staging->production:
    gates:
      - {id: auc, type: performance, metric: auc, max_drop: 0.05}
      - {id: parity, type: fairness, metric: disparate_impact_ratio, sensitive: [gender], min: 0.8}
      - {id: recall, type: threshold_metric, metric: recall, min: 0.5}
      - {id: p95, type: latency, percentile: 95, max_ms: 150}
      - {id: cost, type: cost, max_per_1k: 0.40}
      - {id: drift, type: drift, method: ks, max_p_value_drift: 0.001}
      - {id: repro, type: reproducibility, require: [code_hash, data_snapshot_id, training_config, seed]}
      - {id: docs, type: documentation}
    approvals: [{role: risk_officer}]
"""


def _setup():
    team = make_team("scoring-team")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    model = make_model("scoring", team=team, risk_tier="regulated")
    version = make_version(model, owner, stage="staging")
    attach_full_evidence(owner, version)
    policy_publish(text=EIGHT_GATES, reason="test")
    return owner, version


def _final(request_id):
    r = PromotionRequest.objects.get(pk=request_id)
    return r if r.status != RequestStatus.AWAITING_GATES else None


def test_a_request_with_eight_gates_reaches_a_final_state_through_the_worker(celery_worker):
    owner, version = _setup()
    request = promotion_request(user=owner, version=version, to_stage="production", justification="quarterly refresh")
    final = wait_for(lambda: _final(request.pk), timeout=90, message="gates to finish")
    runs = list(GateRun.objects.filter(request=request).order_by("position"))
    assert len(runs) == 8
    outcomes = {r.gate_id: r.outcome for r in runs}
    assert all(o is not None and o["gate_id"] == r.gate_id for r, o in zip(runs, outcomes.values(), strict=True))
    assert {r.gate_id: r.status for r in runs} == {
        "auc": "passed",
        "parity": "passed",
        "recall": "passed",
        "p95": "passed",
        "cost": "passed",
        "drift": "passed",
        "repro": "passed",
        "docs": "passed",
    }, {r.gate_id: (r.status, r.outcome["explanation"]) for r in runs}
    assert final.status == RequestStatus.AWAITING_APPROVALS
    auc = outcomes["auc"]
    assert auc["ci_low"] < auc["ci_high"] and auc["n"] == 3000
    assert set(auc["inputs"]) == {"predictions"} and len(auc["inputs"]["predictions"]) == 64
    assert auc["policy_sha256"] == final.policy_sha256


def test_a_failing_gate_ends_in_gates_failed_and_notifies_the_requester(celery_worker):
    from governance.notifications.models import Notification

    owner, version = _setup()
    policy_publish(text=EIGHT_GATES.replace("max_ms: 150", "max_ms: 5"), reason="tighter latency")
    request = promotion_request(user=owner, version=version, to_stage="production", justification="refresh")
    final = wait_for(lambda: _final(request.pk), timeout=90, message="gates to finish")
    assert final.status == RequestStatus.GATES_FAILED
    assert "p95" in final.status_reason
    p95 = GateRun.objects.get(request=request, gate_id="p95")
    assert p95.status == "failed" and "5" in p95.outcome["explanation"]
    assert Notification.objects.filter(recipient=owner, kind="gates_failed", request=request).exists()


def test_killing_the_worker_mid_gate_still_gives_one_outcome_per_gate(celery_worker):
    """SIGKILL the worker while a gate runs; a new worker process finishes with one outcome each."""
    owner, version = _setup()
    # A deliberately slow gate (a 3,000-resample row bootstrap, about a second) to kill into.
    policy_publish(
        text=EIGHT_GATES.replace(
            "{id: recall, type: threshold_metric, metric: recall, min: 0.5}",
            "{id: slow, type: performance, metric: ks, max_drop: 0.5, bootstrap_samples: 3000}",
        )
    )
    request = promotion_request(user=owner, version=version, to_stage="production", justification="refresh")
    wait_for(
        lambda: GateRun.objects.filter(request=request, gate_id="slow", status="running").exists(),
        timeout=60,
        interval=0.01,
        message="the slow gate to start",
    )
    celery_worker.kill()
    assert GateRun.objects.get(request=request, gate_id="slow").status == "running"  # killed mid-gate
    celery_worker.start()  # a new process takes over, as a restarted or another worker would
    # The killed run stays "running". Redis would redeliver its message after the visibility
    # timeout; beat's sweeper gets there first in production. Here: one sweep, as beat would
    # run it once the lost claim is older than the hard time limit.
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from governance.gates.services import gate_sweep

    gate_sweep(now=timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61))
    final = wait_for(lambda: _final(request.pk), timeout=60, message="gates to finish after the kill")
    runs = GateRun.objects.filter(request=request)
    assert runs.count() == 8
    assert all(r.outcome is not None for r in runs)
    assert final.status in (RequestStatus.AWAITING_APPROVALS, RequestStatus.GATES_FAILED)
    # Redelivered or re-dispatched messages find finished runs and change nothing.
    snapshot = {r.gate_id: (r.status, r.outcome["computed_at"], r.attempts) for r in runs}
    from governance.gates.tasks import gate_run_task

    results = [gate_run_task.delay(r.pk) for r in runs]
    assert [res.get(timeout=30) for res in results] == [snapshot[r.gate_id][0] for r in runs]
    assert {
        r.gate_id: (r.status, r.outcome["computed_at"], r.attempts) for r in GateRun.objects.filter(request=request)
    } == snapshot
