"""The one door for every change of a promotion request or a version's stage.

Each service checks permission, validates the transition, locks the rows it changes
(`select_for_update`), writes the change and its audit event in one transaction, and
schedules side effects (gate tasks, notifications) with `transaction.on_commit`.
Views, the API, admin commands and Celery tasks call these; nothing else writes a stage.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.accounts.permissions import (
    ensure_may,
    roles_for_model,
    user_may,
)
from governance.accounts.roles import Action
from governance.approvals.acceptances import (
    accept_by_of,
    acceptance_record,
    acceptance_refused_record,
    awaiting_acceptance_reason,
    gate_acceptance_right_for,
    gate_acceptance_state,
    inconclusive_needs,
)
from governance.approvals.manifest import manifest_sha256, request_manifest
from governance.approvals.models import (
    DECIDABLE_STATUSES,
    OPEN_STATUSES,
    ChangeType,
    Decision,
    DecisionKind,
    GateAcceptance,
    PromotionRequest,
    RequestStatus,
    RiskClass,
)
from governance.approvals.notices import notify_gate_acceptors, notify_pending_approvers, owners, request_notify
from governance.approvals.reviews import review_assign
from governance.approvals.selectors import decision_right_for, request_slot_state
from governance.approvals.slots import default_required_approvals
from governance.approvals.transitions import PromotionError, assert_request_transition, assert_stage_transition
from governance.audit.services import audit_record
from governance.evidence.selectors import comparison_with_production
from governance.registry.models import ModelVersion, RegisteredModel, Stage

DECISION_ACTIONS = {
    DecisionKind.APPROVE: "promotion.approved",
    DecisionKind.REJECT: "promotion.rejected",
    DecisionKind.REQUEST_CHANGES: "promotion.changes_requested",
}


def _lock_request(request_id: int) -> PromotionRequest:
    return (
        PromotionRequest.objects.select_for_update(of=("self",))
        .select_related("version__model__team", "requested_by")
        .get(pk=request_id)
    )


def _ensure_requester_or(user, request: PromotionRequest, action: str, verb: str) -> None:
    """The requester, or someone whose role allows `action` on the model (owners, MLOps)."""
    model = request.version.model
    if not user_may(user, Action.VIEW, model):
        raise PermissionDenied("No such request.")
    if user.pk != request.requested_by_id and not user_may(user, action, model):
        raise PermissionDenied(f"Only the requester, a model owner or MLOps may {verb} this request.")


def _set_status(request: PromotionRequest, status: str, reason: str = "") -> None:
    assert_request_transition(request.status, status)
    request.status = status
    request.status_changed_at = timezone.now()
    request.status_reason = reason[:1000]
    request.save(update_fields=["status", "status_changed_at", "status_reason"])


def _audit(actor, action: str, obj: PromotionRequest | ModelVersion, model: RegisteredModel, data: dict) -> None:
    """Every event here is about a request or a version, filed under its model's name (the
    audit page and the model's history find it by that name)."""
    audit_record(actor=actor, action=action, obj=obj, model_name=model.name, data=data)


@transaction.atomic
def promotion_request(
    *,
    user,
    version: ModelVersion,
    to_stage: str,
    change_type: str = ChangeType.STANDARD,
    justification: str,
    ticket_id: str = "",
    bypass_gates: list[str] | None = None,
) -> PromotionRequest:
    """File a request. An emergency bypasses `bypass_gates` (default: every gate the policy
    lets an emergency bypass); each must be one the policy allows."""
    from governance.gates.services import gate_runs_create
    from governance.policies.services import policy_for_model

    model = version.model
    ensure_may(user, Action.REQUEST, model, f"Requesting a promotion of {model.name}")
    justification = (justification or "").strip()
    if not justification:
        raise PromotionError("Say why this version should move (justification is required).", field="justification")
    if change_type not in ChangeType.values:
        raise PromotionError(
            f"Unknown change type {change_type!r}; use standard, emergency or experiment.", field="change_type"
        )
    if to_stage not in Stage.values:
        raise PromotionError(f"Unknown stage {to_stage!r}.", field="to_stage")
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    assert_stage_transition(version.stage, to_stage)
    if change_type == ChangeType.EMERGENCY and not ticket_id.strip():
        raise PromotionError("An emergency change needs the incident ticket ID.", field="ticket_id")

    policy_version = policy_for_model(model)
    block = (
        (policy_version.data.get("transitions") or {}).get(f"{version.stage}->{to_stage}") if policy_version else None
    )
    if change_type == ChangeType.EXPERIMENT and not (
        block.get("experiment_allowed", False) if block is not None else to_stage == Stage.STAGING
    ):
        where = "staging only, never production" if to_stage != Stage.STAGING else "no stage under this policy"
        raise PromotionError(
            f"An experiment may reach {where} (experiment_allowed is false for {version.stage}->{to_stage}).",
            field="change_type",
        )
    if to_stage == Stage.PRODUCTION and block is None:
        why = (
            f"no policy applies to {model.name} (risk tier {model.risk_tier})"
            if policy_version is None
            else f"policy {policy_version.policy.name} v{policy_version.number} has no {version.stage}->production transition"
        )
        raise PromotionError(
            f"Cannot promote to production: {why}. An admin must attach a policy first.",
            field="to_stage",
            code="no_policy",
        )
    block = block or {}
    if block:
        approvals = [{"role": a["role"], "count": int(a.get("count", 1))} for a in block.get("approvals", [])]
        gates = list(block.get("gates", []))
        emergency = block.get("emergency")
    else:
        approvals = default_required_approvals(from_stage=version.stage, to_stage=to_stage, risk_tier=model.risk_tier)
        gates = []
        emergency = None

    now = timezone.now()
    bypassed: list[str] = []
    bypass_expires_at = review_due_at = None
    if change_type == ChangeType.EMERGENCY:
        if not emergency:
            raise PromotionError("The policy allows no emergency change for this transition.", field="change_type")
        allowed = list(emergency.get("bypassable_gates", []))
        bypassed = allowed if bypass_gates is None else list(dict.fromkeys(bypass_gates))
        refused = [g for g in bypassed if g not in allowed]
        if refused:
            raise PromotionError(
                f"The policy does not let {', '.join(refused)} be bypassed (bypassable: {', '.join(allowed)}).",
                field="bypass_gates",
            )
        bypass_expires_at = now + timedelta(hours=int(emergency.get("max_bypass_hours", 72)))
        review_due_at = now + timedelta(hours=int(emergency.get("post_incident_review_within_hours", 120)))

    try:
        with transaction.atomic():
            request = PromotionRequest.objects.create(
                version=version,
                from_stage=version.stage,
                to_stage=to_stage,
                change_type=change_type,
                justification=justification[:5000],
                ticket_id=ticket_id.strip()[:100],
                requested_by=user,
                status=RequestStatus.AWAITING_GATES,
                policy_version=policy_version,
                policy_name=policy_version.policy.name if policy_version else "",
                policy_snapshot=policy_version.content if policy_version else "",
                policy_sha256=policy_version.sha256 if policy_version else "",
                required_approvals=approvals,
                required_gates=gates,
                bypassed_gates=bypassed,
                bypass_expires_at=bypass_expires_at,
                review_due_at=review_due_at,
                sla_hours=block.get("sla_hours"),
                ticket_pattern=block.get("ticket_pattern", ""),
                ticket_example=block.get("ticket_example", ""),
                exclude_from_approval=list(block.get("exclude_from_approval", [])),
                comparison=comparison_with_production(version),
            )
    except IntegrityError as exc:
        raise PromotionError(f"{version} already has an open promotion request.", code="conflict") from exc
    _audit(
        user,
        "promotion.requested",
        request,
        model,
        {
            "version": version.version,
            "from": request.from_stage,
            "to": to_stage,
            "change_type": change_type,
            "ticket_id": request.ticket_id,
            "justification": request.justification,
            "policy": request.policy_name,
            "policy_sha256": request.policy_sha256,
            "required_approvals": approvals,
            "gates": [g["id"] for g in gates],
            "bypassed_gates": bypassed,
        },
    )
    gate_runs_create(request=request)  # dispatches on commit; moves on at once when there are no gates
    return request


@transaction.atomic
def promotion_gates_completed(
    *, request_id: int, failed: list[str], errored: list[str], inconclusive: list[str] | tuple[str, ...] = ()
) -> PromotionRequest:
    """Called once every gate run is final. Idempotent: a second call changes nothing.

    An inconclusive gate never counts as a pass: with `on_inconclusive: block` the request ends
    in `gates_failed` like a failed gate, saying what data would decide it; with `accept_by`
    it awaits approvals, and its approvers are asked once each such gate is accepted."""
    request = _lock_request(request_id)
    inconclusive = list(inconclusive)
    if request.status == RequestStatus.PROMOTED and request.change_type == ChangeType.EMERGENCY:
        _bypass_recheck_completed(request, failed=failed + inconclusive, errored=errored)
        return request
    if request.status != RequestStatus.AWAITING_GATES:
        return request
    model = request.version.model
    accept_by = accept_by_of(request)
    blocked = [g for g in inconclusive if g not in accept_by]
    if failed or errored or blocked:
        parts = []
        if failed:
            parts.append("failed: " + ", ".join(failed))
        if blocked:
            parts.append("inconclusive, blocked by the policy: " + inconclusive_needs(request, blocked))
        if errored:
            parts.append("could not be computed: " + ", ".join(errored))
        reason = "Gates " + "; ".join(parts)
        _set_status(request, RequestStatus.GATES_FAILED, reason)
        _audit(
            None,
            "promotion.gates_failed",
            request,
            model,
            {"failed": failed, "errored": errored, **({"inconclusive": inconclusive} if inconclusive else {})},
        )
        request_notify(
            request, "gates_failed", [request.requested_by], f"{request}: {reason}.", key=f"round-{request.gate_round}"
        )
        return request
    if inconclusive:  # each one a named role may accept: the request waits for them
        _set_status(
            request, RequestStatus.AWAITING_APPROVALS, awaiting_acceptance_reason(request, inconclusive, accept_by)
        )
        _audit(
            None,
            "promotion.gates_inconclusive",
            request,
            model,
            {"inconclusive": inconclusive, "accept_by": {g: accept_by[g] for g in inconclusive}},
        )
        runs = list(request.gate_runs.current().filter(gate_id__in=inconclusive))
        notify_gate_acceptors(request, runs, accept_by, request_slot_state(request))
        return request
    _set_status(request, RequestStatus.AWAITING_APPROVALS, "All gates passed.")
    _audit(None, "promotion.gates_passed", request, model, {})
    _gates_cleared(request)
    return request


def _gates_cleared(request: PromotionRequest) -> None:
    """Every gate passed or was accepted: promote if the slots are filled, else ask approvers."""
    state = request_slot_state(request)
    if state.complete:
        _execute(request, actor=None)
    else:
        notify_pending_approvers(request, state)


def promotion_gate_accept(
    *, user, request: PromotionRequest, gate_id: str, reason: str, ticket_id: str = ""
) -> GateAcceptance:
    """A person of the policy's `accept_by` role accepts an inconclusive gate of the current
    round, with a reason: a decision on that gate run, audited with it. When no inconclusive
    gate waits any more, the request moves on like one whose gates passed. A refusal by the
    rule (`gate_acceptance_right`) is audited in its own transaction, like a refused decision."""
    try:
        return _gate_accept(user=user, request=request, gate_id=gate_id, reason=reason, ticket_id=ticket_id)
    except _Refused as refused:
        acceptance_refused_record(user=user, request=request, gate_id=gate_id, code=refused.code, why=refused.message)
        if refused.code == "forbidden":
            raise PermissionDenied(refused.message) from None
        raise PromotionError(refused.message, code=refused.code) from None


@transaction.atomic
def _gate_accept(*, user, request: PromotionRequest, gate_id: str, reason: str, ticket_id: str) -> GateAcceptance:
    reason = (reason or "").strip()
    if not reason:
        raise PromotionError("Say why you accept this inconclusive outcome (reason is required).", field="reason")
    ticket_id = (ticket_id or "").strip()
    request = _lock_request(request.pk)
    model = request.version.model
    held = roles_for_model(user, model)
    if not user_may(user, Action.VIEW, model, roles=held):
        raise PermissionDenied("No such request.")
    run = request.gate_runs.current().filter(gate_id=gate_id).first()
    if run is None:
        raise PromotionError(f"This request has no gate {gate_id!r}.", code="not_found")
    if ticket_id and request.ticket_problem(ticket_id):
        raise PromotionError(request.ticket_problem(ticket_id), field="ticket_id")
    acceptances, slots = gate_acceptance_state(request), request_slot_state(request)
    right = gate_acceptance_right_for(
        user, request, gate_id, acceptances=acceptances, slots=slots, run=run, held_roles=held
    )
    if not right.may_accept:
        raise _Refused(right.code, right.why_not, None)
    role = acceptances.accept_by[gate_id]
    made = acceptance_record(request=request, run=run, user=user, role=role, reason=reason, ticket_id=ticket_id)
    acceptances.accepted[gate_id] = made
    if not acceptances.awaiting:
        accepted = sorted(acceptances.accepted)
        PromotionRequest.objects.filter(pk=request.pk).update(
            status_reason=f"All gates passed or were accepted ({', '.join(accepted)})."
        )
        _audit(None, "promotion.gates_passed", request, model, {"accepted": accepted})
        _gates_cleared(request)
    return made


def promotion_decide(
    *,
    user,
    request: PromotionRequest,
    decision: str,
    reason: str,
    risk_class: str,
    ticket_id: str = "",
    role: str | None = None,
) -> Decision:
    """Record an approval, rejection or change request. A refusal by the decision rule
    (self-approval, author, wrong or revoked role, second approval) is itself audited, with
    its reason, in a transaction of its own: the attempt is a governance fact too."""
    try:
        return _decide(
            user=user,
            request=request,
            decision=decision,
            reason=reason,
            risk_class=risk_class,
            ticket_id=ticket_id,
            role=role,
        )
    except _Refused as refused:
        with transaction.atomic():
            _audit(
                user,
                "promotion.decision_refused",
                request,
                request.version.model,
                {"decision": decision, "role": role, "reason": refused.message, "code": refused.code},
            )
        if refused.code == "forbidden":
            raise PermissionDenied(refused.message) from None
        raise PromotionError(refused.message, code=refused.code, field=refused.field) from None


class _Refused(Exception):
    def __init__(self, code: str, message: str, field: str | None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@transaction.atomic
def _decide(*, user, request, decision, reason, risk_class, ticket_id, role) -> Decision:
    if decision not in DecisionKind.values:
        raise PromotionError("Decision must be approve, reject or request_changes.", field="decision")
    if not (reason or "").strip():
        raise PromotionError("Give the reason for your decision.", field="reason")
    if risk_class not in RiskClass.values:
        raise PromotionError("Risk classification must be low, medium or high.", field="risk_class")
    request = _lock_request(request.pk)
    model = request.version.model
    held = roles_for_model(user, model)
    if not user_may(user, Action.VIEW, model, roles=held):
        raise PermissionDenied("No such request.")
    ticket_id = (ticket_id or "").strip()
    problem = request.ticket_problem(ticket_id)
    if problem:
        raise PromotionError(problem, field="ticket_id")
    state = request_slot_state(request)
    right = decision_right_for(user, request, state, held)
    refused = right.refusal(decision, role)
    if refused is not None:
        raise _Refused(*refused)
    role = right.role_for(decision, role)
    manifest = request_manifest(request)
    try:
        with transaction.atomic():
            made = Decision.objects.create(
                request=request,
                user=user,
                role=role,
                decision=decision,
                reason=reason.strip()[:5000],
                ticket_id=ticket_id[:100],
                risk_class=risk_class,
                round=request.gate_round,
                manifest=manifest,
                manifest_sha256=manifest_sha256(manifest),
            )
    except IntegrityError:
        raise _Refused(
            "duplicate", "You already approved this request; one person fills at most one slot.", None
        ) from None
    _audit(
        user,
        DECISION_ACTIONS[decision],
        request,
        model,
        {
            "decision_id": made.pk,
            "role": role,
            "reason": made.reason,
            "ticket_id": made.ticket_id,
            "risk_class": risk_class,
            "round": made.round,
            "manifest_sha256": made.manifest_sha256,
        },
    )
    if decision == DecisionKind.REJECT:
        _set_status(request, RequestStatus.REJECTED, f"Rejected by {user} ({role}): {made.reason}")
        request_notify(request, "decision_made", [request.requested_by], f"{request} was rejected by {user}.")
    elif decision == DecisionKind.REQUEST_CHANGES:
        _set_status(request, RequestStatus.CHANGES_REQUESTED, f"Changes requested by {user} ({role}): {made.reason}")
        request_notify(
            request,
            "changes_requested",
            [request.requested_by],
            f"{user} requested changes on {request}: {made.reason}",
            key=f"round-{request.gate_round}",
        )
    elif (
        request.status == RequestStatus.AWAITING_APPROVALS
        and request_slot_state(request).complete
        and not gate_acceptance_state(request).awaiting
    ):
        _execute(request, actor=user)
    return made


@transaction.atomic
def promotion_evidence_changed(*, version_id: int, actor, what: str) -> PromotionRequest | None:
    """New evidence or a new document revision for a version with a request waiting for its
    gates or approvals: the gates run again on it (a new round) and approvals given before
    go stale. A request with changes requested waits for its requester to resubmit."""
    pending = PromotionRequest.objects.filter(version_id=version_id, status__in=DECIDABLE_STATUSES).first()
    if pending is None:
        return None
    request = _lock_request(pending.pk)
    if not request.is_decidable:
        return request
    _start_round(request, actor=actor, reason=f"The evidence changed ({what}); gates run again.", what=what)
    return request


@transaction.atomic
def promotion_resubmit(*, user, request: PromotionRequest, note: str = "") -> PromotionRequest:
    """After changes were requested: the requester (or a model owner or MLOps) sends the
    request back to its gates, on the evidence as it is now. Earlier decisions stay in the
    history; approvals from earlier rounds do not count."""
    request = _lock_request(request.pk)
    model = request.version.model
    _ensure_requester_or(user, request, Action.REQUEST, "resubmit")
    if request.status != RequestStatus.CHANGES_REQUESTED:
        raise PromotionError(
            f"This request is {request.get_status_display().lower()}; only one with changes requested is resubmitted.",
            code="invalid_state",
        )
    note = (note or "").strip()[:1000]
    _start_round(request, actor=user, reason=f"Resubmitted by {user}" + (f": {note}" if note else "."), what=note)
    _audit(user, "promotion.resubmitted", request, model, {"round": request.gate_round, "note": note})
    return request


def _start_round(request: PromotionRequest, *, actor, reason: str, what: str) -> None:
    """Gates again, on the evidence as it is now; runs inside the caller's transaction."""
    from governance.gates.services import gate_runs_create

    previous = request.gate_round
    request.gate_round = previous + 1
    request.save(update_fields=["gate_round"])
    if request.status == RequestStatus.AWAITING_GATES:
        PromotionRequest.objects.filter(pk=request.pk).update(status_reason=reason[:1000])
    else:
        _set_status(request, RequestStatus.AWAITING_GATES, reason)
    _audit(
        actor,
        "promotion.gates_restarted",
        request,
        request.version.model,
        {"round": request.gate_round, "previous_round": previous, "why": what[:500]},
    )
    gate_runs_create(request=request)


# --- Emergency changes after promotion ---------------------------------------------------


@transaction.atomic
def promotion_bypass_recheck(*, user, request: PromotionRequest) -> PromotionRequest:
    """Compute the gates an emergency bypassed, on the evidence as it is now. When they pass,
    the bypass is resolved; if it expires first, the change is reverted."""
    from governance.gates.services import gate_runs_create

    request = _lock_request(request.pk)
    model = request.version.model
    ensure_may(user, Action.REQUEST, model, f"Re-checking the bypassed gates of {model.name}")
    if not (request.change_type == ChangeType.EMERGENCY and request.status == RequestStatus.PROMOTED):
        raise PromotionError("Only a promoted emergency change has bypassed gates to re-check.", code="invalid_state")
    if request.bypass_resolved_at or request.reverted_at or not request.bypassed_gates:
        raise PromotionError("This emergency change has nothing left to re-check.", code="invalid_state")
    if request.gate_runs.current().filter(status__in=["pending", "running"]).exists():
        raise PromotionError("A re-check is already running.", code="conflict")
    request.gate_round += 1
    request.save(update_fields=["gate_round"])
    _audit(
        user,
        "promotion.bypass_recheck_started",
        request,
        model,
        {"round": request.gate_round, "gates": request.bypassed_gates},
    )
    gate_runs_create(request=request, only=list(request.bypassed_gates))
    return request


def _bypass_recheck_completed(request: PromotionRequest, *, failed: list[str], errored: list[str]) -> None:
    if request.bypass_resolved_at or request.reverted_at or request.gate_round < 2:
        return
    model = request.version.model
    if failed or errored:
        _audit(
            None,
            "promotion.bypass_recheck_failed",
            request,
            model,
            {"round": request.gate_round, "failed": failed, "errored": errored},
        )
        request_notify(
            request,
            "gates_failed",
            [request.requested_by],
            f"{request}: the bypassed gates still fail ({', '.join(failed + errored)}); the change is reverted "
            f"when its bypass expires.",
            key=f"round-{request.gate_round}",
        )
        return
    PromotionRequest.objects.filter(pk=request.pk).update(bypass_resolved_at=timezone.now())
    _audit(
        None,
        "promotion.bypass_resolved",
        request,
        model,
        {"round": request.gate_round, "gates": request.bypassed_gates},
    )


def promotion_emergency_expire(*, now=None) -> list[int]:
    """Beat, hourly: an emergency whose bypass expired unresolved goes back, through this
    service: the version returns to the stage it left, and a production version it replaced
    returns to production. Each in its own transaction; safe to run twice."""
    now = now or timezone.now()
    due = PromotionRequest.objects.filter(
        change_type=ChangeType.EMERGENCY,
        status=RequestStatus.PROMOTED,
        bypass_expires_at__lt=now,
        bypass_resolved_at__isnull=True,
        reverted_at__isnull=True,
    ).exclude(bypassed_gates=[])
    reverted = []
    for request_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            request = _lock_request(request_id)
            if request.reverted_at or request.bypass_resolved_at:
                continue
            _revert(request, now=now)
            reverted.append(request_id)
    return reverted


def _revert(request: PromotionRequest, *, now) -> None:
    model = RegisteredModel.objects.select_for_update().get(pk=request.version.model_id)
    version = ModelVersion.objects.select_for_update().get(pk=request.version_id)
    moves = []
    if version.stage == request.to_stage:
        _move_stage(version, request.from_stage, actor=None, request=request, emergency_expired=True)
        moves.append(f"{version} back to {request.from_stage}")
        replaced = request.replaced_version
        if replaced is not None:
            replaced = ModelVersion.objects.select_for_update().get(pk=replaced.pk)
            if replaced.stage == Stage.DEPRECATED and request.to_stage == Stage.PRODUCTION:
                _move_stage(replaced, Stage.PRODUCTION, actor=None, request=request, emergency_expired=True)
                moves.append(f"{replaced} back to production")
    PromotionRequest.objects.filter(pk=request.pk).update(reverted_at=now)
    _audit(
        None,
        "promotion.emergency_reverted",
        request,
        model,
        {
            "bypassed_gates": request.bypassed_gates,
            "expired_at": request.bypass_expires_at.isoformat(),
            "moves": moves,
        },
    )
    to_tell = owners(model)
    message = (
        f"The emergency bypass of {request} expired without the bypassed gates passing: "
        + ("; ".join(moves) if moves else "the version had already moved on, nothing to revert")
        + "."
    )
    request_notify(request, "emergency_reverted", [request.requested_by, *to_tell], message)


@transaction.atomic
def promotion_cancel(*, user, request: PromotionRequest, reason: str = "") -> PromotionRequest:
    request = _lock_request(request.pk)
    model = request.version.model
    _ensure_requester_or(user, request, Action.CANCEL, "cancel")
    if request.status not in OPEN_STATUSES:
        raise PromotionError(
            f"This request is {request.get_status_display().lower()}; only an open request can be cancelled.",
            code="invalid_state",
        )
    _set_status(request, RequestStatus.CANCELLED, reason or f"Cancelled by {user}.")
    _audit(user, "promotion.cancelled", request, model, {"reason": reason[:1000]})
    return request


def _move_stage(version: ModelVersion, stage: str, *, actor, request: PromotionRequest | None = None, **data) -> None:
    """Write a version's new stage and its audit event (inside the caller's transaction)."""
    leaving_production = version.stage == Stage.PRODUCTION
    changes = {"stage": stage, "stage_changed_at": timezone.now()}
    if leaving_production:
        changes["traffic_percent"] = None
    ModelVersion.objects.filter(pk=version.pk).update(**changes)
    _audit(
        actor,
        "version.stage_changed",
        version,
        version.model,
        {
            "version": version.version,
            "from": version.stage,
            "to": stage,
            "request": request.pk if request else None,
            **data,
        },
    )


def _execute(request: PromotionRequest, *, actor) -> None:
    """Move the version; runs inside the caller's transaction with the request locked."""
    model = RegisteredModel.objects.select_for_update().get(pk=request.version.model_id)
    version = ModelVersion.objects.select_for_update().get(pk=request.version_id)
    if version.stage != request.from_stage:
        raise PromotionError(
            f"{version} is now {version.stage}, not {request.from_stage}; file a new request.", code="invalid_state"
        )
    replaced = None
    if request.to_stage == Stage.PRODUCTION:
        replaced = ModelVersion.objects.select_for_update().filter(model=model, stage=Stage.PRODUCTION).first()
        if replaced is not None:
            _move_stage(replaced, Stage.DEPRECATED, actor=actor, request=request)
    _move_stage(version, request.to_stage, actor=actor, request=request)
    request.replaced_version = replaced
    request.save(update_fields=["replaced_version"])
    _set_status(request, RequestStatus.PROMOTED, f"Moved to {request.to_stage}.")
    if request.change_type == ChangeType.EMERGENCY:
        review_assign(request, actor=actor)
    _audit(actor, "promotion.promoted", request, model, {"version": version.version, "to": request.to_stage})
    request_notify(
        request, "promoted", [request.requested_by, *owners(model)], f"{version} is now in {request.to_stage}."
    )


@transaction.atomic
def promotion_rollback(*, user, model: RegisteredModel, reason: str, ticket_id: str = "") -> ModelVersion:
    """Put the previous production version back; the current one becomes deprecated."""
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    ensure_may(user, Action.ROLLBACK, model, f"Rolling back {model.name}")
    if not (reason or "").strip():
        raise PromotionError("Say why you roll back (reason is required).", field="reason")
    current = ModelVersion.objects.select_for_update().filter(model=model, stage=Stage.PRODUCTION).first()
    if current is None:
        raise PromotionError(f"{model.name} has no production version to roll back.", code="invalid_state")
    last = (
        PromotionRequest.objects.filter(version=current, to_stage=Stage.PRODUCTION, status=RequestStatus.PROMOTED)
        .order_by("-status_changed_at")
        .first()
    )
    previous = last.replaced_version if last else None
    if previous is None:
        raise PromotionError(
            f"{current} replaced no earlier version; there is nothing to roll back to.", code="invalid_state"
        )
    previous = ModelVersion.objects.select_for_update().get(pk=previous.pk)
    if previous.stage != Stage.DEPRECATED:
        raise PromotionError(
            f"{previous} is {previous.stage}; only a deprecated version can be restored.", code="invalid_state"
        )
    _move_stage(current, Stage.DEPRECATED, actor=user, rollback=True)
    _move_stage(previous, Stage.PRODUCTION, actor=user, rollback=True)
    _audit(
        user,
        "version.rolled_back",
        previous,
        model,
        {
            "from_version": current.version,
            "to_version": previous.version,
            "reason": reason.strip()[:1000],
            "ticket_id": ticket_id[:100],
        },
    )
    if last is not None:
        request_notify(
            last,
            "rolled_back",
            [last.requested_by, *owners(model)],
            f"{model.name} rolled back by {user}: {previous} is in production again, {current} is deprecated "
            f"({reason.strip()[:300]}).",
            key=f"rollback-{timezone.now().isoformat()}",
        )
    previous.refresh_from_db()
    return previous


def promotion_expire_stale(*, now=None) -> list[int]:
    """Expire open requests older than PROMOTION_REQUEST_EXPIRY_DAYS (beat runs this hourly).

    Each request is expired in its own transaction, with its audit event, so a failure on
    one never blocks the others. Safe to run twice: only open requests are touched.
    """
    from django.conf import settings

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PROMOTION_REQUEST_EXPIRY_DAYS)
    expired = []
    for request_id in PromotionRequest.objects.filter(status__in=OPEN_STATUSES, requested_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            request = _lock_request(request_id)
            if request.status not in OPEN_STATUSES:
                continue
            days = settings.PROMOTION_REQUEST_EXPIRY_DAYS
            _set_status(request, RequestStatus.EXPIRED, f"No decision within {days} days; file a new request.")
            _audit(None, "promotion.expired", request, request.version.model, {"after_days": days})
            request_notify(
                request,
                "decision_made",
                [request.requested_by],
                f"{request} expired after {days} days without a decision.",
            )
            expired.append(request_id)
    return expired
