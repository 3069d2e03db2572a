"""Creating, running and finishing gate runs.

`gate_runs_create` makes one GateRun per policy gate when a request is filed and, on
commit, dispatches one Celery task per gate as a chord whose final step moves the request
on. Each run is claimed with a conditional update so a redelivered task never computes a
second outcome; a run whose function raises gets an `error` outcome, never a pass.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.gates.integrity import gate_finished_record
from governance.gates.models import FINAL_GATE_STATUSES, GateRun, GateStatus
from governance.gates.signals import gates_finished

if TYPE_CHECKING:
    from governance.approvals.models import PromotionRequest

# Gates are computed only while their request waits for them (status of DESIGN.md).
AWAITING_GATES = "awaiting_gates"

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # claims of one run before it is recorded as an error


def gate_runs_create(*, request: PromotionRequest, only: list[str] | None = None) -> list[GateRun]:
    """Inside the request's transaction: one run per gate of its current round; dispatch after
    commit. `only`: just these gates, computed even if the emergency bypassed them (the
    re-check of an emergency change after its promotion)."""
    now = timezone.now()
    runs = []
    for position, spec in enumerate(request.required_gates):
        if only is not None and spec["id"] not in only:
            continue
        bypassed = only is None and spec["id"] in request.bypassed_gates
        params = {k: v for k, v in spec.items() if k not in ("id", "type")}
        runs.append(
            GateRun(
                request=request,
                round=request.gate_round,
                gate_id=spec["id"],
                gate_type=spec["type"],
                params=params,
                position=position,
                status=GateStatus.BYPASSED if bypassed else GateStatus.PENDING,
                outcome=_bypass_outcome(request, spec) if bypassed else None,
                finished_at=now if bypassed else None,
            )
        )
    GateRun.objects.bulk_create(runs)
    bypassed_runs = [run for run in runs if run.status == GateStatus.BYPASSED]
    if bypassed_runs:
        model_name = request.version.model.name
        for run in bypassed_runs:  # final from birth: their outcome enters the chain now
            gate_finished_record(run, model_name=model_name)
    request_id = request.pk
    if any(run.status == GateStatus.PENDING for run in runs):
        transaction.on_commit(lambda: gates_dispatch(request_id=request_id))
    else:
        gates_finalize(request_id=request_id)  # nothing to compute: move on in this transaction
    return runs


def _bypass_outcome(request: PromotionRequest, spec: dict) -> dict:
    until = request.bypass_expires_at.strftime("%Y-%m-%d %H:%M UTC") if request.bypass_expires_at else "unknown"
    return outcome_envelope(
        run_gate_id=spec["id"],
        run_type=spec["type"],
        status=GateStatus.BYPASSED,
        explanation=(
            f"Bypassed by emergency change (ticket {request.ticket_id}) until {until}; a post-incident review is due."
        ),
        inputs={},
        policy_sha256=request.policy_sha256,
    )


def outcome_envelope(
    *,
    run_gate_id: str,
    run_type: str,
    status: str,
    explanation: str,
    inputs: dict,
    policy_sha256: str,
    result: dict | None = None,
) -> dict:
    """The gate outcome of DESIGN.md (contract); fields that do not apply are null."""
    result = result or {}
    return {
        "gate_id": run_gate_id,
        "type": run_type,
        "status": status,
        "metric": result.get("metric"),
        "value": result.get("value"),
        "threshold": result.get("threshold"),
        "ci_low": result.get("ci_low"),
        "ci_high": result.get("ci_high"),
        "p_value": result.get("p_value"),
        "n": result.get("n"),
        "groups": result.get("groups"),
        "explanation": explanation,
        "inputs": inputs,
        "policy_sha256": policy_sha256,
        "details": result.get("details") or {},
        "computed_at": timezone.now().isoformat(),
    }


def gates_dispatch(*, request_id: int, run_ids: list[int] | None = None) -> None:
    """Send the pending runs of a request to the workers (after commit)."""
    from celery import chord

    from governance.gates.tasks import gate_run_task, gates_finalize_task

    runs = GateRun.objects.current().filter(request_id=request_id, status=GateStatus.PENDING)
    if run_ids is not None:
        runs = runs.filter(pk__in=run_ids)
    ids = list(runs.values_list("pk", flat=True))
    if not ids:
        gates_finalize(request_id=request_id)
        return
    try:
        chord([gate_run_task.si(run_id) for run_id in ids])(gates_finalize_task.si(request_id))
    except Exception:
        # Broker down: the runs stay pending with no dispatch time; the sweeper sends them.
        log.exception("could not dispatch gates of request %s; the sweeper will retry", request_id)
        return
    # A run a worker already finished is final: the database refuses any change to it.
    GateRun.objects.filter(pk__in=ids, status__in=[GateStatus.PENDING, GateStatus.RUNNING]).update(
        dispatched_at=timezone.now()
    )


def gate_run_claim(run_id: int) -> bool:
    """Conditional update: only one worker gets to compute a run.

    A run still "running" past the hard time limit lost its worker (killed, OOM): the
    redelivered task may claim it again. A finished run is never claimed again.
    """
    now = timezone.now()
    lost_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = (
        GateRun.objects.filter(pk=run_id)
        .filter(Q(status=GateStatus.PENDING) | Q(status=GateStatus.RUNNING, started_at__lt=lost_before))
        .update(status=GateStatus.RUNNING, started_at=now, attempts=F("attempts") + 1)
    )
    return claimed == 1


def gate_run_execute(*, run_id: int) -> str:
    """Compute one run and store its outcome. Safe to call twice."""
    from governance.gates.runners import GateUnavailable, run_gate

    if not gate_run_claim(run_id):
        return GateRun.objects.filter(pk=run_id).values_list("status", flat=True).first() or "missing"
    run = GateRun.objects.select_related("request__version__model").get(pk=run_id)
    if run.attempts > MAX_ATTEMPTS:
        # Lost its worker (killed, out of memory, hard time limit) every time: stop retrying.
        explanation = (
            f"The gate was interrupted {run.attempts - 1} times (worker lost or time limit of "
            f"{settings.CELERY_TASK_TIME_LIMIT} s exceeded); check the size of its evidence."
        )
        outcome = outcome_envelope(
            run_gate_id=run.gate_id,
            run_type=run.gate_type,
            status=GateStatus.ERROR,
            explanation=explanation,
            inputs={},
            policy_sha256=run.request.policy_sha256,
        )
        _finish(run, status=GateStatus.ERROR, outcome=outcome)
        return GateStatus.ERROR
    try:
        result, inputs = run_gate(run)
        status = result["status"]
        explanation = result.get("explanation", "")
    except GateUnavailable as exc:
        result, inputs, status, explanation = {}, getattr(exc, "inputs", {}), GateStatus.ERROR, str(exc)
    except Exception as exc:  # a gate that raises is an error, never a pass
        log.exception("gate %s of request %s raised", run.gate_id, run.request_id)
        result, inputs, status = {}, {}, GateStatus.ERROR
        explanation = f"The gate could not be computed: {type(exc).__name__}: {str(exc)[:300]}"
    outcome = outcome_envelope(
        run_gate_id=run.gate_id,
        run_type=run.gate_type,
        status=status,
        explanation=explanation,
        inputs=inputs,
        policy_sha256=run.request.policy_sha256,
        result=result,
    )
    _finish(run, status=status, outcome=outcome)
    return status


@transaction.atomic
def _finish(run: GateRun, *, status: str, outcome: dict) -> bool:
    """Store a final outcome and its gate.finished audit event, in one transaction.
    Conditional: a run already finished by another worker keeps its first outcome."""
    finished = GateRun.objects.filter(pk=run.pk, status=GateStatus.RUNNING).update(
        status=status, outcome=outcome, finished_at=timezone.now()
    )
    if finished:
        run.status, run.outcome = status, outcome
        gate_finished_record(run, model_name=run.request.version.model.name)
    return bool(finished)


def gates_finalize(*, request_id: int) -> None:
    """Announce that every run of the request is final (gates_finished). Idempotent: the
    receiver moves the request on only while it still awaits its gates."""
    runs = list(GateRun.objects.current().filter(request_id=request_id).values("gate_id", "status"))
    if any(r["status"] not in FINAL_GATE_STATUSES for r in runs):
        return
    gates_finished.send(
        sender=GateRun,
        request_id=request_id,
        failed=[r["gate_id"] for r in runs if r["status"] == GateStatus.FAILED],
        errored=[r["gate_id"] for r in runs if r["status"] == GateStatus.ERROR],
        inconclusive=[r["gate_id"] for r in runs if r["status"] == GateStatus.INCONCLUSIVE],
    )


def gate_sweep(*, now=None) -> int:
    """Re-dispatch runs left pending (lost while Redis was down) or running on a dead worker."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.GATE_STALE_AFTER_SECONDS)
    # A run "running" longer than the hard time limit lost its worker: make it pending again.
    dead = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    GateRun.objects.current().filter(
        status=GateStatus.RUNNING, started_at__lt=dead, request__status=AWAITING_GATES
    ).update(status=GateStatus.PENDING)
    pending = GateRun.objects.current().filter(
        Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale),
        status=GateStatus.PENDING,
        request__status=AWAITING_GATES,
    )
    by_request: dict[int, list[int]] = {}
    for run_id, request_id in pending.values_list("pk", "request_id"):
        by_request.setdefault(request_id, []).append(run_id)
    for request_id, ids in by_request.items():
        gates_dispatch(request_id=request_id, run_ids=ids)
    # Requests whose runs all finished but whose final step was lost.
    waiting = GateRun.objects.current().filter(request__status=AWAITING_GATES).values_list("request_id", flat=True)
    unfinished = (
        GateRun.objects.current().filter(status__in=[GateStatus.PENDING, GateStatus.RUNNING]).values("request_id")
    )
    for request_id in set(waiting.exclude(request_id__in=unfinished)):
        gates_finalize(request_id=request_id)
    return sum(len(v) for v in by_request.values())
