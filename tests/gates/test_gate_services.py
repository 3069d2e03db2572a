"""Gate plumbing without the worker: task configuration, claims, sweeper, replay, dry run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from governance.approvals.models import PromotionRequest, RequestStatus
from governance.approvals.services import promotion_request
from governance.gates import tasks
from governance.gates.models import GateRun
from governance.gates.services import _finish, gate_run_claim, gate_run_execute, gate_sweep, gates_finalize
from governance.policies.services import policy_publish
from tests.factories import attach_full_evidence, grant, make_model, make_team, make_user, make_version
from tests.tamper import GATE_RUN_TRIGGERS, guards_off

pytestmark = pytest.mark.django_db

POLICY = """
name: svc
applies_to: {models: [svc-model]}
transitions:
  staging->production:
    gates:
      - {id: auc, type: performance, metric: auc, max_drop: 0.05}
      - {id: parity, type: fairness, metric: demographic_parity_difference, sensitive: [gender, age_band], intersectional: true, max: 0.2}
      - {id: p95, type: latency, percentile: 95, max_ms: 150}
      - {id: docs, type: documentation}
    approvals: [{role: risk_officer}]
    emergency: {bypassable_gates: [p95], max_bypass_hours: 24, post_incident_review_within_hours: 48}
"""


def test_time_limits_and_retry_countdowns_stay_below_the_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT < visibility
    assert tasks.RETRY_BACKOFF_MAX < visibility
    for task in (tasks.gate_run_task, tasks.gates_finalize_task):
        assert task.acks_late and task.reject_on_worker_lost
        assert task.retry_backoff_max < visibility
        assert (task.time_limit or settings.CELERY_TASK_TIME_LIMIT) < visibility
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST


def _request(change_type="standard", ticket="CHG-1"):
    team = make_team("svc")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    model = make_model("svc-model", team=team)
    version = make_version(model, owner, stage="staging")
    attach_full_evidence(owner, version, n=1500)
    policy_publish(text=POLICY)
    return owner, promotion_request(
        user=owner,
        version=version,
        to_stage="production",
        justification="x",
        change_type=change_type,
        ticket_id=ticket,
    )


def _run_all(request):
    for run in GateRun.objects.filter(request=request):
        gate_run_execute(run_id=run.pk)
    gates_finalize(request_id=request.pk)


def test_a_run_is_claimed_once_and_a_second_execution_changes_nothing():
    _, request = _request()
    run = GateRun.objects.filter(request=request).first()
    assert gate_run_claim(run.pk) == 1  # the claim's attempt number: its token
    assert gate_run_claim(run.pk) is None  # another worker got there first
    GateRun.objects.filter(pk=run.pk).update(status="pending")
    assert gate_run_execute(run_id=run.pk) == "passed"
    first = GateRun.objects.get(pk=run.pk).outcome
    assert gate_run_execute(run_id=run.pk) == "passed"  # redelivered: no second result
    assert GateRun.objects.get(pk=run.pk).outcome == first
    assert GateRun.objects.get(pk=run.pk).attempts == 2  # the manual claim above, then one execution


def test_a_run_lost_with_its_worker_can_be_claimed_again_after_the_time_limit():
    _, request = _request()
    run = GateRun.objects.filter(request=request).first()
    assert gate_run_claim(run.pk)
    GateRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    )
    assert gate_run_claim(run.pk)


def test_a_running_run_is_lost_when_its_heartbeat_is_stale_and_kept_while_it_is_fresh():
    _, request = _request()
    run = GateRun.objects.filter(request=request).first()
    others = GateRun.objects.filter(request=request).exclude(pk=run.pk)
    others.update(dispatched_at=timezone.now())  # as if sent just now: not the sweep's business
    assert gate_run_claim(run.pk) == 1
    stale = settings.GATE_HEARTBEAT_STALE_SECONDS
    GateRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=stale - 1))
    assert gate_run_claim(run.pk) is None  # alive: a slow gate is never taken twice
    assert gate_sweep() == 0 and GateRun.objects.get(pk=run.pk).status == "running"
    GateRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=stale + 1))
    assert gate_sweep() == 1  # silent for longer than the stale window: sent again
    run.refresh_from_db()
    assert run.status == "pending" and run.dispatched_at is not None
    assert gate_run_claim(run.pk) == 2


def test_an_outcome_from_a_claim_that_was_taken_over_is_not_stored():
    """A worker that went silent and came back must not overwrite the new claim's work."""
    _, request = _request()
    run = GateRun.objects.filter(request=request).first()
    assert gate_run_claim(run.pk) == 1
    old = GateRun.objects.get(pk=run.pk)
    GateRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.GATE_HEARTBEAT_STALE_SECONDS + 1)
    )
    assert gate_run_claim(run.pk) == 2
    outcome = {"gate_id": run.gate_id, "status": "passed"}
    assert _finish(old, status="passed", outcome=outcome) is False
    assert GateRun.objects.get(pk=run.pk).status == "running"
    assert _finish(GateRun.objects.get(pk=run.pk), status="passed", outcome=outcome) is True


def test_outcomes_follow_the_contract_and_replay_is_identical(capsys):
    _, request = _request()
    _run_all(request)
    request.refresh_from_db()
    assert request.status == RequestStatus.AWAITING_APPROVALS
    for run in GateRun.objects.filter(request=request):
        assert set(run.outcome) >= {
            "gate_id",
            "type",
            "status",
            "metric",
            "value",
            "threshold",
            "ci_low",
            "ci_high",
            "p_value",
            "n",
            "groups",
            "explanation",
            "inputs",
            "computed_at",
        }
        assert run.outcome["policy_sha256"] == request.policy_sha256
    parity = GateRun.objects.get(request=request, gate_id="parity").outcome
    assert "gender & age_band" in parity["groups"]
    call_command("replay_gates", str(request.pk))
    out = capsys.readouterr().out
    assert "identical: 4 gate(s)" in out


def test_replay_reports_a_difference_when_a_stored_outcome_was_altered(capsys):
    _, request = _request()
    _run_all(request)
    run = GateRun.objects.get(request=request, gate_id="auc")
    outcome = dict(run.outcome)
    outcome["value"] = 0.5
    with guards_off(*GATE_RUN_TRIGGERS):  # the database refuses this edit: an attacker's
        GateRun.objects.filter(pk=run.pk).update(outcome=outcome)
    with pytest.raises(CommandError, match="1 gate"):
        call_command("replay_gates", str(request.pk))
    assert "auc: DIFFERENT" in capsys.readouterr().out
    with pytest.raises(CommandError, match=rf"gate run #{run.pk} \('auc'.*does not match the hash the chain"):
        call_command("verify_audit")
    with pytest.raises(CommandError, match="no promotion request"):
        call_command("replay_gates", "999999")


def test_missing_evidence_fails_the_gate_and_says_what_to_upload():
    team = make_team("svc")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    model = make_model("svc-model", team=team)
    version = make_version(model, owner, stage="staging")
    policy_publish(text=POLICY)
    request = promotion_request(user=owner, version=version, to_stage="production", justification="x")
    _run_all(request)
    run = GateRun.objects.get(request=request, gate_id="auc")
    assert run.status == "failed" and "upload it (kind=predictions)" in run.outcome["explanation"]
    request.refresh_from_db()
    assert request.status == RequestStatus.GATES_FAILED


def test_emergency_change_bypasses_named_gates_with_deadlines():
    _, request = _request(change_type="emergency", ticket="INC-42")
    p95 = GateRun.objects.get(request=request, gate_id="p95")
    assert p95.status == "bypassed" and "INC-42" in p95.outcome["explanation"]
    assert abs(request.bypass_expires_at - request.requested_at - timedelta(hours=24)) < timedelta(seconds=1)
    assert abs(request.review_due_at - request.requested_at - timedelta(hours=48)) < timedelta(seconds=1)


def test_sweeper_redispatches_runs_left_pending():
    from governance.gates.services import gate_sweep

    _, request = _request()
    GateRun.objects.filter(request=request).update(dispatched_at=None)
    sent = gate_sweep(now=timezone.now())
    assert sent == 4
    assert not GateRun.objects.filter(request=request, dispatched_at__isnull=True).exists()


def test_editing_the_policy_while_a_request_is_in_flight_changes_nothing_for_it():
    _, request = _request()
    frozen_gates, frozen_approvals, frozen_sha = (
        request.required_gates,
        request.required_approvals,
        request.policy_sha256,
    )
    policy_publish(
        text=POLICY.replace("max_ms: 150", "max_ms: 1").replace(
            "{role: risk_officer}", "{role: risk_officer}, {role: compliance_officer}"
        ),
        reason="tighter",
    )
    _run_all(request)
    request = PromotionRequest.objects.get(pk=request.pk)
    assert request.required_gates == frozen_gates and request.required_approvals == frozen_approvals
    assert request.policy_sha256 == frozen_sha
    assert GateRun.objects.get(request=request, gate_id="p95").status == "passed"  # judged on 150 ms
    assert [s["role"] for s in request.required_approvals] == ["risk_officer"]


def test_a_run_that_keeps_losing_its_worker_ends_as_an_error_not_a_loop():
    from governance.gates.services import MAX_ATTEMPTS

    _, request = _request()
    run = GateRun.objects.filter(request=request).first()
    GateRun.objects.filter(pk=run.pk).update(attempts=MAX_ATTEMPTS)
    assert gate_run_execute(run_id=run.pk) == "error"
    run.refresh_from_db()
    assert run.status == "error" and "interrupted" in run.outcome["explanation"]
