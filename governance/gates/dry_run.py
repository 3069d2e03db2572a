"""Would this version pass policy X for transition T? Runs the gates, creates no request.

`dry_run_start` checks the right (accounts Action.DRY_RUN: model owners, MLOps and approvers,
not auditors), records a `DryRun` row and its `dry_run.requested` audit event, and queues the
computation on a worker (gates/dry_run_tasks.py) after commit. The worker runs `dry_run()`
within DRY_RUN_TIME_LIMIT_SECONDS; past it the row says "timed out". The API waits up to
DRY_RUN_SYNC_WAIT_SECONDS (`dry_run_wait`) and answers the result, else 202 and a URL to
poll. A dry run writes no request, gate run or decision: only its own row.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.accounts.permissions import Action, require
from governance.audit.services import audit_record
from governance.core.waiting import wait_finished
from governance.gates.models import DryRun, DryRunStatus, DryRunVerdict
from governance.gates.services import outcome_envelope
from governance.gates.stats.outcome import GateInputError
from governance.policies.models import Policy
from governance.policies.services import policy_for_model
from governance.registry.models import ModelVersion


def dry_run(
    *, version: ModelVersion, to_stage: str, from_stage: str | None = None, policy_name: str | None = None
) -> dict:
    """`from_stage` defaults to the version's stage; any transition the policy names may be tried."""
    model = version.model
    transition = f"{from_stage or version.stage}->{to_stage}"

    def refused(problem: str, policy_version=None) -> dict:
        return {
            "transition": transition,
            "policy": policy_version.policy.name if policy_version else policy_name,
            "policy_sha256": policy_version.sha256 if policy_version else None,
            "would_pass": False,
            "gates": [],
            "approvals": [],
            "problems": [problem],
        }

    if policy_name:
        policy = Policy.objects.select_related("current_version").filter(name=policy_name).first()
        policy_version = policy.current_version if policy else None
        if policy_version is None:
            return refused(f"No policy named {policy_name!r}.")
    else:
        policy_version = policy_for_model(model)
    if policy_version is None:
        return refused(
            f"No policy applies to {model.name} (risk tier {model.risk_tier}); it cannot be promoted beyond staging."
        )
    block = (policy_version.data.get("transitions") or {}).get(transition)
    if block is None:
        name = f"{policy_version.policy.name} v{policy_version.number}"
        return refused(f"Policy {name} has no {transition} transition.", policy_version)
    # The statistics (SciPy, ~1.5 s to import) load when a dry run computes, in the worker,
    # not in every process that starts Django.
    from governance.gates.runners import evaluate_gate

    gates = []
    for spec in block.get("gates", []):
        try:
            result, inputs = evaluate_gate(version=version, spec=spec)
            status, explanation = result["status"], result.get("explanation", "")
        except GateInputError as exc:
            result, inputs, status, explanation = {}, {}, "error", f"The evidence cannot be evaluated: {exc}"
        gates.append(
            outcome_envelope(
                run_gate_id=spec["id"],
                run_type=spec["type"],
                status=status,
                explanation=explanation,
                inputs=inputs,
                policy_sha256=policy_version.sha256,
                result=result,
            )
        )
    failing = [g["gate_id"] for g in gates if g["status"] != "passed"]
    return {
        "transition": transition,
        "policy": policy_version.policy.name,
        "policy_version": policy_version.number,
        "policy_sha256": policy_version.sha256,
        "computed_at": timezone.now().isoformat(),
        "would_pass": not failing,
        "failing_gates": failing,
        "gates": gates,
        "approvals": block.get("approvals", []),
        "problems": [f"{g['gate_id']}: {g['explanation']}" for g in gates if g["status"] != "passed"],
    }


def dry_run_verdict(report: dict) -> str:
    """pass: every gate passed (or the transition has none); fail: a gate failed or could not
    be evaluated, or the policy refuses the transition; inconclusive: nothing failed but the
    data cannot tell for some gate (never a pass)."""
    gates = report.get("gates") or []
    if not gates and report.get("problems"):
        return DryRunVerdict.FAIL
    statuses = {g["status"] for g in gates}
    if statuses & {"failed", "error"}:
        return DryRunVerdict.FAIL
    if statuses - {"passed"}:
        return DryRunVerdict.INCONCLUSIVE
    return DryRunVerdict.PASS


# --- Dry runs on a worker --------------------------------------------------------------

log = logging.getLogger(__name__)
HARD_LIMIT_EXTRA_SECONDS = 10  # the worker is killed this long after the soft limit


def dry_run_start(
    *, user, version: ModelVersion, to_stage: str, from_stage: str | None = None, policy_name: str | None = None
) -> DryRun:
    """404 when the user cannot see the model, 403 when they may not dry-run it (auditors)."""
    model = version.model
    require(user, Action.DRY_RUN, model)
    src = from_stage or version.stage
    with transaction.atomic():
        run = DryRun.objects.create(
            version=version, from_stage=src, to_stage=to_stage, policy_name=policy_name or "", requested_by=user
        )
        # Asking is audited (who probed which version, when); the outcome is not a decision.
        audit_record(
            actor=user,
            action="dry_run.requested",
            obj=run,
            model_name=model.name,
            data={"version": version.version, "from": src, "to": to_stage, "policy": policy_name or None},
        )
        transaction.on_commit(lambda: _dispatch(run.pk))
    return run


def _dispatch(run_id: int) -> None:
    from governance.gates.dry_run_tasks import dry_run_task

    soft = settings.DRY_RUN_TIME_LIMIT_SECONDS
    try:
        dry_run_task.apply_async(args=[run_id], soft_time_limit=soft, time_limit=soft + HARD_LIMIT_EXTRA_SECONDS)
    except Exception:  # broker down: the row says so when read (dry_run_refresh)
        log.exception("could not queue dry run %s", run_id)


def dry_run_execute(*, run_id: int) -> str:
    """The worker's part: claim the row (once), compute, store the verdict."""
    claimed = DryRun.objects.filter(pk=run_id, status=DryRunStatus.QUEUED).update(
        status=DryRunStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return "not queued"
    run = DryRun.objects.select_related("version__model").get(pk=run_id)
    report = dry_run(
        version=run.version, to_stage=run.to_stage, from_stage=run.from_stage, policy_name=run.policy_name or None
    )
    verdict = dry_run_verdict(report)
    DryRun.objects.filter(pk=run_id, status=DryRunStatus.RUNNING).update(
        status=DryRunStatus.DONE, verdict=verdict, result=report, finished_at=timezone.now()
    )
    return verdict


def dry_run_finish_badly(*, run_id: int, status: str, error: str) -> None:
    """Timed out or failed: the row says so (unless it finished meanwhile)."""
    DryRun.objects.filter(pk=run_id, status__in=[DryRunStatus.QUEUED, DryRunStatus.RUNNING]).update(
        status=status, error=error[:1000], finished_at=timezone.now()
    )


def dry_run_refresh(run: DryRun) -> DryRun:
    """A run its worker lost (killed past the hard limit) or no worker took: timed out."""
    now = timezone.now()
    limit = settings.DRY_RUN_TIME_LIMIT_SECONDS + HARD_LIMIT_EXTRA_SECONDS
    if run.status == DryRunStatus.RUNNING and run.started_at and run.started_at < now - timedelta(seconds=limit + 5):
        dry_run_finish_badly(
            run_id=run.pk, status=DryRunStatus.TIMED_OUT, error=f"The worker did not finish within {limit} s."
        )
        run.refresh_from_db()
    elif run.status == DryRunStatus.QUEUED and run.created_at < now - timedelta(seconds=10 * limit):
        dry_run_finish_badly(
            run_id=run.pk, status=DryRunStatus.TIMED_OUT, error=f"No worker started it within {10 * limit} s."
        )
        run.refresh_from_db()
    return run


def dry_run_wait(run: DryRun, timeout: float | None = None) -> DryRun:
    """Poll until the run is finished or `timeout` seconds pass; the row as it is then."""
    return wait_finished(run, settings.DRY_RUN_SYNC_WAIT_SECONDS if timeout is None else timeout)


def dry_run_for_user(user, pk: int) -> DryRun:
    """404 unless the user may see the model; 403 unless they may dry-run it."""
    from django.http import Http404

    run = DryRun.objects.select_related("version__model", "requested_by").filter(pk=pk).first()
    if run is None:
        raise Http404("No such dry run.")
    require(user, Action.DRY_RUN, run.version.model)
    return dry_run_refresh(run)
