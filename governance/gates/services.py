"""Creating, running and finishing gate runs.

`gate_runs_create` makes one GateRun per policy gate when a request is filed and, on
commit, dispatches one Celery task per gate as a chord whose final step moves the request
on. Each run is claimed with a conditional update so a redelivered task never computes a
second outcome; a run whose function raises gets an `error` outcome, never a pass.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DatabaseError, connection, transaction
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


def lost_runs(now) -> Q:
    """Running runs whose worker is gone: no heartbeat for GATE_HEARTBEAT_STALE_SECONDS (a
    claim counts as the first beat), or running past the task's hard time limit (the limit
    ends the task; a run still "running" after it was not finished by anyone)."""
    stale = now - timedelta(seconds=settings.GATE_HEARTBEAT_STALE_SECONDS)
    over_limit = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return Q(status=GateStatus.RUNNING) & (
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale) | Q(started_at__lt=over_limit)
    )


def gate_run_claim(run_id: int) -> int | None:
    """Conditional update: only one worker gets to compute a run. Returns the claim's attempt
    number (its token: only that claim may heartbeat and finish the run), or None.

    A pending run, or a running one that lost its worker (`lost_runs`), may be claimed. One
    UPDATE with its condition on this row alone: PostgreSQL re-checks the condition on the
    row it locked, so of two claimers the second sees the first's fresh heartbeat and gets
    nothing. A finished run is never claimed again.
    """
    now = timezone.now()
    claimed = (
        GateRun.objects.filter(pk=run_id)
        .filter(Q(status=GateStatus.PENDING) | lost_runs(now))
        .update(status=GateStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1)
    )
    if claimed != 1:
        return None
    return GateRun.objects.filter(pk=run_id).values_list("attempts", flat=True).first()


class GateHeartbeat:
    """While a claimed run computes, a thread writes `heartbeat_at` every GATE_HEARTBEAT_SECONDS
    (numpy and Arrow release the GIL, and Python switches threads every few ms, so a slow
    computation does not silence it; a killed process does). Only the claim holding attempt
    `attempt` writes, so a run taken over by another claim is never kept alive by the old one.
    Inside an open transaction (a test or shell calling the service directly) nobody else
    could see the claim, so no thread is started."""

    def __init__(self, run_id: int, attempt: int):
        self.run_id = run_id
        self.attempt = attempt
        self.beats = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> GateHeartbeat:
        if not connection.in_atomic_block:
            self._thread = threading.Thread(target=self._loop, name=f"gate-heartbeat-{self.run_id}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def beat(self) -> bool:
        with transaction.atomic():
            with connection.cursor() as cursor:  # never wait behind a lock on the row
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            written = GateRun.objects.filter(pk=self.run_id, status=GateStatus.RUNNING, attempts=self.attempt).update(
                heartbeat_at=timezone.now()
            )
        self.beats += written
        return bool(written)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(settings.GATE_HEARTBEAT_SECONDS):
                try:
                    if not self.beat():
                        return  # finished, or taken over by another claim
                except DatabaseError:
                    log.warning("gate run %s: heartbeat not written", self.run_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection


def gate_run_execute(*, run_id: int) -> str:
    """Compute one run and store its outcome. Safe to call twice."""
    from governance.gates.runners import GateUnavailable, run_gate

    attempt = gate_run_claim(run_id)
    if attempt is None:
        return GateRun.objects.filter(pk=run_id).values_list("status", flat=True).first() or "missing"
    run = GateRun.objects.select_related("request__version__model").get(pk=run_id)
    run.attempts = attempt
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
        with GateHeartbeat(run_id, attempt):
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
    Conditional on the claim: a run already finished, or taken over by a later claim after
    this one went silent, keeps the other's outcome."""
    finished = GateRun.objects.filter(pk=run.pk, status=GateStatus.RUNNING, attempts=run.attempts).update(
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
    """Re-dispatch runs left pending (lost while Redis was down) or running on a dead worker
    (`lost_runs`: a stale heartbeat). A slow run whose heartbeat is fresh is left alone."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.GATE_STALE_AFTER_SECONDS)
    candidates = list(
        GateRun.objects.current().filter(lost_runs(now), request__status=AWAITING_GATES).values_list("pk", flat=True)
    )
    if candidates:
        # Conditions on the row itself, re-checked by PostgreSQL on the locked row: a run
        # that beat or finished since the query above is not taken from its worker.
        lost = GateRun.objects.filter(lost_runs(now), pk__in=candidates).update(
            status=GateStatus.PENDING, dispatched_at=None
        )
        if lost:
            log.warning("gate sweep: %s run(s) lost their worker; sending them again", lost)
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
