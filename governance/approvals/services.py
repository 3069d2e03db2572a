"""The one door for every change of a promotion request or a version's stage.

Each service checks permission, validates the transition, locks the rows it changes
(`select_for_update`), writes the change and its audit event in one transaction, and
schedules side effects (gate tasks, notifications) with `transaction.on_commit`.
Views, the API, admin commands and Celery tasks call these; nothing else writes a stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.accounts.permissions import ensure_may, roles_for_model, user_may
from governance.accounts.roles import Action, Role
from governance.approvals.models import (
    OPEN_STATUSES,
    ChangeType,
    Decision,
    DecisionKind,
    PromotionRequest,
    RequestStatus,
    RiskClass,
)
from governance.audit.services import audit_record
from governance.core.errors import DomainError
from governance.registry.models import ModelVersion, RegisteredModel, RiskTier, Stage

# --- State as data -------------------------------------------------------------------

STAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.DRAFT: frozenset({Stage.STAGING, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.PRODUCTION, Stage.ARCHIVED}),
    Stage.PRODUCTION: frozenset({Stage.DEPRECATED}),
    Stage.DEPRECATED: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset(),
}

REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    RequestStatus.AWAITING_GATES: frozenset(
        {
            RequestStatus.AWAITING_APPROVALS,
            RequestStatus.GATES_FAILED,
            RequestStatus.REJECTED,
            RequestStatus.CHANGES_REQUESTED,
            RequestStatus.CANCELLED,
            RequestStatus.EXPIRED,
        }
    ),
    RequestStatus.AWAITING_APPROVALS: frozenset(
        {
            RequestStatus.PROMOTED,
            RequestStatus.REJECTED,
            RequestStatus.CHANGES_REQUESTED,
            RequestStatus.CANCELLED,
            RequestStatus.EXPIRED,
        }
    ),
}


DECISION_ACTIONS = {
    DecisionKind.APPROVE: "promotion.approved",
    DecisionKind.REJECT: "promotion.rejected",
    DecisionKind.REQUEST_CHANGES: "promotion.changes_requested",
}


class PromotionError(DomainError):
    """A refused change of a request or a version's stage. Nothing was written."""


def assert_stage_transition(src: str, dst: str) -> None:
    if dst not in STAGE_TRANSITIONS.get(src, frozenset()):
        allowed = ", ".join(sorted(STAGE_TRANSITIONS.get(src, ()))) or "none"
        raise PromotionError(
            f"A {src} version cannot move to {dst} (allowed from {src}: {allowed}).",
            field="to_stage",
            code="invalid_transition",
        )


def assert_request_transition(src: str, dst: str) -> None:
    if dst not in REQUEST_TRANSITIONS.get(src, frozenset()):
        raise PromotionError(
            f"This request is {src.replace('_', ' ')}; it cannot become {dst.replace('_', ' ')}.", code="invalid_state"
        )


# --- Required approvals --------------------------------------------------------------


def default_required_approvals(*, from_stage: str, to_stage: str, risk_tier: str) -> list[dict]:
    """The RACI of the domain reading, used where no policy says otherwise."""
    if to_stage == Stage.STAGING:
        return [{"role": Role.REVIEWER.value, "count": 1}]
    if to_stage == Stage.PRODUCTION:
        slots = [{"role": Role.MODEL_OWNER.value, "count": 1}, {"role": Role.PRODUCT_OWNER.value, "count": 1}]
        if risk_tier in (RiskTier.REGULATED, RiskTier.SAFETY_CRITICAL):
            slots += [
                {"role": Role.COMPLIANCE_OFFICER.value, "count": 1},
                {"role": Role.RISK_OFFICER.value, "count": 1},
            ]
        if risk_tier == RiskTier.SAFETY_CRITICAL:
            slots.append({"role": Role.DOMAIN_EXPERT.value, "count": 1})
        return slots
    return [{"role": Role.MODEL_OWNER.value, "count": 1}]


@dataclass
class Slot:
    role: str
    index: int  # 1-based within the role
    decision: Decision | None = None


@dataclass
class SlotState:
    slots: list[Slot]
    # Approvals that do not count (author no longer holds the role), with the reason.
    stale: list[tuple[Decision, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(slot.decision is not None for slot in self.slots)

    @property
    def open_roles(self) -> set[str]:
        return {slot.role for slot in self.slots if slot.decision is None}


def approval_slots(
    request: PromotionRequest, decisions: list[Decision], roles_by_user: dict[int, set[str]]
) -> SlotState:
    """Fill the required slots from approvals still backed by the author's current role.

    Pure over its inputs: `roles_by_user` maps user id → roles held now on the model.
    One person fills at most one slot (the unique constraint also guarantees it).
    """
    slots = [
        Slot(role=item["role"], index=i + 1) for item in request.required_approvals for i in range(item.get("count", 1))
    ]
    state = SlotState(slots=slots)
    used_users: set[int] = set()
    for decision in decisions:
        if decision.decision != DecisionKind.APPROVE:
            continue
        if decision.user_id in used_users:
            continue
        if decision.role not in roles_by_user.get(decision.user_id, set()):
            state.stale.append((decision, f"{decision.user} no longer holds the {decision.role} role"))
            continue
        slot = next((s for s in slots if s.role == decision.role and s.decision is None), None)
        if slot is None:
            continue
        slot.decision = decision
        used_users.add(decision.user_id)
    return state


def request_slot_state(request: PromotionRequest) -> SlotState:
    decisions = list(request.decisions.select_related("user").all())
    model = request.version.model
    roles_by_user = {d.user_id: roles_for_model(d.user, model) for d in decisions if d.decision == DecisionKind.APPROVE}
    return approval_slots(request, decisions, roles_by_user)


# --- Services ------------------------------------------------------------------------


def _lock_request(request_id: int) -> PromotionRequest:
    return (
        PromotionRequest.objects.select_for_update(of=("self",))
        .select_related("version__model__team", "requested_by")
        .get(pk=request_id)
    )


def _set_status(request: PromotionRequest, status: str, reason: str = "") -> None:
    assert_request_transition(request.status, status)
    request.status = status
    request.status_changed_at = timezone.now()
    request.status_reason = reason[:1000]
    request.save(update_fields=["status", "status_changed_at", "status_reason"])


@transaction.atomic
def promotion_request(
    *,
    user,
    version: ModelVersion,
    to_stage: str,
    change_type: str = ChangeType.STANDARD,
    justification: str,
    ticket_id: str = "",
) -> PromotionRequest:
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
    if change_type == ChangeType.EXPERIMENT and to_stage != Stage.STAGING:
        raise PromotionError("An experiment may reach staging only, never production.", field="change_type")
    if change_type == ChangeType.EMERGENCY and not ticket_id.strip():
        raise PromotionError("An emergency change needs the incident ticket ID.", field="ticket_id")

    policy_version = policy_for_model(model)
    block = (
        (policy_version.data.get("transitions") or {}).get(f"{version.stage}->{to_stage}") if policy_version else None
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
    if block is not None:
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
        bypassed = list(emergency.get("bypassable_gates", []))
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
            )
    except IntegrityError as exc:
        raise PromotionError(f"{version} already has an open promotion request.", code="conflict") from exc
    audit_record(
        actor=user,
        action="promotion.requested",
        obj=request,
        model_name=model.name,
        data={
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
def promotion_gates_completed(*, request_id: int, failed: list[str], errored: list[str]) -> PromotionRequest:
    """Called once every gate run is final. Idempotent: a second call changes nothing."""
    request = _lock_request(request_id)
    if request.status != RequestStatus.AWAITING_GATES:
        return request
    model = request.version.model
    if failed or errored:
        parts = []
        if failed:
            parts.append("failed: " + ", ".join(failed))
        if errored:
            parts.append("could not be computed: " + ", ".join(errored))
        reason = "Gates " + "; ".join(parts)
        _set_status(request, RequestStatus.GATES_FAILED, reason)
        audit_record(
            actor=None,
            action="promotion.gates_failed",
            obj=request,
            model_name=model.name,
            data={"failed": failed, "errored": errored},
        )
        _notify(request, "gates_failed", [request.requested_by], f"{request}: {reason}.")
        return request
    _set_status(request, RequestStatus.AWAITING_APPROVALS, "All gates passed.")
    audit_record(actor=None, action="promotion.gates_passed", obj=request, model_name=model.name, data={})
    state = request_slot_state(request)
    if state.complete:
        _execute(request, actor=None)
    else:
        _notify_pending_approvers(request, state)
    return request


@transaction.atomic
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
    request = _lock_request(request.pk)
    model = request.version.model
    held = roles_for_model(user, model)
    if not user_may(user, Action.VIEW, model, roles=held) and not (user.is_staff or user.is_superuser):
        raise PermissionDenied("No such request.")
    if decision not in DecisionKind.values:
        raise PromotionError("Decision must be approve, reject or request_changes.", field="decision")
    if not (reason or "").strip():
        raise PromotionError("Give the reason for your decision.", field="reason")
    if risk_class not in RiskClass.values:
        raise PromotionError("Risk classification must be low, medium or high.", field="risk_class")
    if request.status not in OPEN_STATUSES:
        raise PromotionError(
            f"This request is {request.get_status_display().lower()}; it takes no more decisions.", code="invalid_state"
        )
    if user.pk == request.requested_by_id:
        raise PermissionDenied("You requested this promotion; someone else must decide on it (separation of duties).")
    required_roles = [item["role"] for item in request.required_approvals]
    entitled = [r for r in required_roles if r in held]
    if not entitled:
        raise PermissionDenied("You hold none of the roles this request needs (" + ", ".join(required_roles) + ").")
    state = request_slot_state(request)
    if role:
        if role not in required_roles:
            raise PromotionError(f"This request needs no {role} sign-off.", field="role")
        if role not in held:
            raise PermissionDenied(f"You do not hold the {role} role on {model.name}.")
    if decision == DecisionKind.APPROVE:
        if any(slot.decision is not None and slot.decision.user_id == user.pk for slot in state.slots):
            raise PromotionError(
                "You already filled a slot on this request; one person fills at most one.", code="duplicate"
            )
        candidates = [role] if role else [r for r in entitled if r in state.open_roles]
        candidates = [r for r in candidates if r in state.open_roles]
        if not candidates:
            raise PromotionError("Every slot you could fill is already filled.", field="role", code="duplicate")
        role = candidates[0]
    else:
        role = role or entitled[0]
    try:
        with transaction.atomic():
            made = Decision.objects.create(
                request=request,
                user=user,
                role=role,
                decision=decision,
                reason=reason.strip()[:5000],
                ticket_id=(ticket_id or "").strip()[:100],
                risk_class=risk_class,
            )
    except IntegrityError as exc:
        raise PromotionError(
            "You already approved this request; one person fills at most one slot.", code="duplicate"
        ) from exc
    audit_record(
        actor=user,
        action=DECISION_ACTIONS[decision],
        obj=request,
        model_name=model.name,
        data={
            "decision_id": made.pk,
            "role": role,
            "reason": made.reason,
            "ticket_id": made.ticket_id,
            "risk_class": risk_class,
        },
    )
    if decision == DecisionKind.REJECT:
        _set_status(request, RequestStatus.REJECTED, f"Rejected by {user} ({role}): {made.reason}")
        _notify(request, "request_decided", [request.requested_by], f"{request} was rejected by {user}.")
    elif decision == DecisionKind.REQUEST_CHANGES:
        _set_status(request, RequestStatus.CHANGES_REQUESTED, f"Changes requested by {user} ({role}): {made.reason}")
        _notify(request, "request_decided", [request.requested_by], f"{user} requested changes on {request}.")
    elif request.status == RequestStatus.AWAITING_APPROVALS and request_slot_state(request).complete:
        _execute(request, actor=user)
    return made


@transaction.atomic
def promotion_cancel(*, user, request: PromotionRequest, reason: str = "") -> PromotionRequest:
    request = _lock_request(request.pk)
    model = request.version.model
    if not user_may(user, Action.VIEW, model):
        raise PermissionDenied("No such request.")
    if user.pk != request.requested_by_id and not user_may(user, Action.CANCEL, model):
        raise PermissionDenied("Only the requester, a model owner or MLOps may cancel this request.")
    if request.status not in OPEN_STATUSES:
        raise PromotionError(
            f"This request is {request.get_status_display().lower()}; only an open request can be cancelled.",
            code="invalid_state",
        )
    _set_status(request, RequestStatus.CANCELLED, reason or f"Cancelled by {user}.")
    audit_record(
        actor=user, action="promotion.cancelled", obj=request, model_name=model.name, data={"reason": reason[:1000]}
    )
    return request


def _execute(request: PromotionRequest, *, actor) -> None:
    """Move the version; runs inside the caller's transaction with the request locked."""
    model = RegisteredModel.objects.select_for_update().get(pk=request.version.model_id)
    version = ModelVersion.objects.select_for_update().get(pk=request.version_id)
    if version.stage != request.from_stage:
        raise PromotionError(
            f"{version} is now {version.stage}, not {request.from_stage}; file a new request.", code="invalid_state"
        )
    now = timezone.now()
    replaced = None
    if request.to_stage == Stage.PRODUCTION:
        replaced = ModelVersion.objects.select_for_update().filter(model=model, stage=Stage.PRODUCTION).first()
        if replaced is not None:
            ModelVersion.objects.filter(pk=replaced.pk).update(
                stage=Stage.DEPRECATED, stage_changed_at=now, traffic_percent=None
            )
            audit_record(
                actor=actor,
                action="version.stage_changed",
                obj=replaced,
                model_name=model.name,
                data={
                    "version": replaced.version,
                    "from": Stage.PRODUCTION,
                    "to": Stage.DEPRECATED,
                    "request": request.pk,
                },
            )
    ModelVersion.objects.filter(pk=version.pk).update(stage=request.to_stage, stage_changed_at=now)
    request.replaced_version = replaced
    request.save(update_fields=["replaced_version"])
    _set_status(request, RequestStatus.PROMOTED, f"Moved to {request.to_stage}.")
    audit_record(
        actor=actor,
        action="version.stage_changed",
        obj=version,
        model_name=model.name,
        data={"version": version.version, "from": request.from_stage, "to": request.to_stage, "request": request.pk},
    )
    audit_record(
        actor=actor,
        action="promotion.promoted",
        obj=request,
        model_name=model.name,
        data={"version": version.version, "to": request.to_stage},
    )
    _notify(request, "promoted", [request.requested_by], f"{version} is now in {request.to_stage}.")


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
    now = timezone.now()
    ModelVersion.objects.filter(pk=current.pk).update(
        stage=Stage.DEPRECATED, stage_changed_at=now, traffic_percent=None
    )
    ModelVersion.objects.filter(pk=previous.pk).update(stage=Stage.PRODUCTION, stage_changed_at=now)
    audit_record(
        actor=user,
        action="version.rolled_back",
        obj=previous,
        model_name=model.name,
        data={
            "from_version": current.version,
            "to_version": previous.version,
            "reason": reason.strip()[:1000],
            "ticket_id": ticket_id[:100],
        },
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
            audit_record(
                actor=None,
                action="promotion.expired",
                obj=request,
                model_name=request.version.model.name,
                data={"after_days": days},
            )
            _notify(
                request,
                "request_decided",
                [request.requested_by],
                f"{request} expired after {days} days without a decision.",
            )
            expired.append(request_id)
    return expired


# --- Notifications (recorded now, sent by the notifications app) ------------------------


def _notify(request: PromotionRequest, kind: str, users, message: str) -> None:
    from governance.notifications.models import Notification

    Notification.objects.bulk_create(
        [Notification(recipient=u, kind=kind, request=request, message=message[:1000]) for u in users if u is not None]
    )


def _notify_pending_approvers(request: PromotionRequest, state: SlotState) -> None:
    from governance.accounts.models import TeamUserObjectPermission
    from governance.registry.models import ModelUserObjectPermission

    model = request.version.model
    codenames = [f"role_{r}" for r in state.open_roles]
    user_ids = set(
        TeamUserObjectPermission.objects.filter(
            content_object_id=model.team_id, permission__codename__in=codenames
        ).values_list("user_id", flat=True)
    ) | set(
        ModelUserObjectPermission.objects.filter(
            content_object_id=model.pk, permission__codename__in=codenames
        ).values_list("user_id", flat=True)
    )
    user_ids.discard(request.requested_by_id)
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True)
    _notify(request, "approval_pending", users, f"{request} waits for your sign-off.")


__all__ = [
    "PromotionError",
    "approval_slots",
    "assert_request_transition",
    "assert_stage_transition",
    "promotion_cancel",
    "promotion_decide",
    "promotion_gates_completed",
    "promotion_request",
    "promotion_rollback",
    "request_slot_state",
]
