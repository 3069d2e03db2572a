"""Inconclusive gates a named person may accept (policy `on_inconclusive: {accept_by: ROLE}`):
which gates of a request wait for an acceptance, who accepted them, who may accept them now.

Reads only; the acceptance itself is written by `services.promotion_gate_accept`. Whether a
user may accept is `accounts.permissions.gate_acceptance_right` (pure); this module gathers
its facts, like `selectors.decision_right_for` does for decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from governance.accounts.permissions import (
    AcceptanceFacts,
    AcceptanceRight,
    gate_acceptance_right,
    roles_by_user_and_model,
    roles_for_model,
    token_scope,
    users_holding_roles,
)
from governance.approvals.models import GateAcceptance, PromotionRequest, RequestStatus
from governance.approvals.selectors import _excluded_as
from governance.approvals.slots import SlotState
from governance.approvals.transitions import PromotionError
from governance.audit.services import audit_record
from governance.gates.models import GateRun, GateStatus


def accept_by_of(request: PromotionRequest) -> dict[str, str]:
    """{gate id: role} of the request's gates whose frozen policy lets a role accept an
    inconclusive outcome (the others block)."""
    out = {}
    for spec in request.required_gates or []:
        mode = spec.get("on_inconclusive")
        if isinstance(mode, dict) and mode.get("accept_by"):
            out[spec["id"]] = mode["accept_by"]
    return out


def role_label(role: str) -> str:
    return role.replace("_", " ")


@dataclass
class GateAcceptanceState:
    """The acceptances of a request's current round."""

    accept_by: dict[str, str]  # gate id -> role, for every gate the policy lets a role accept
    inconclusive: list[str]  # current runs that ended inconclusive with accept_by, in gate order
    accepted: dict[str, GateAcceptance] = field(default_factory=dict)  # gate id -> the counted one
    # Acceptances that do not count (their author no longer holds the role), with the reason.
    stale: list[tuple[GateAcceptance, str]] = field(default_factory=list)

    @property
    def awaiting(self) -> list[str]:
        """Inconclusive gates nobody has (still validly) accepted."""
        return [gid for gid in self.inconclusive if gid not in self.accepted]

    @property
    def accepter_ids(self) -> set[int]:
        return {a.user_id for a in self.accepted.values()}


def gate_acceptance_state(request: PromotionRequest, runs: list[GateRun] | None = None) -> GateAcceptanceState:
    """Which accept_by gates of the current round are inconclusive, accepted or waiting
    (three queries: runs, acceptances, the accepters' roles)."""
    accept_by = accept_by_of(request)
    state = GateAcceptanceState(accept_by=accept_by, inconclusive=[])
    if not accept_by:
        return state
    if runs is None:
        runs = list(request.gate_runs.current())
    current = {r.pk: r for r in runs if r.gate_id in accept_by and r.status == GateStatus.INCONCLUSIVE}
    state.inconclusive = [r.gate_id for r in current.values()]
    if not current:
        return state
    acceptances = list(
        GateAcceptance.objects.filter(gate_run_id__in=list(current)).select_related("user").order_by("created_at")
    )
    held = roles_by_user_and_model({a.user_id for a in acceptances}, [request.version.model])
    for acceptance in acceptances:
        if acceptance.gate_id in state.accepted:
            continue
        if acceptance.role not in held.get((acceptance.user_id, request.version.model_id), set()):
            state.stale.append(
                (acceptance, f"{acceptance.user} no longer holds the {role_label(acceptance.role)} role")
            )
            continue
        state.accepted[acceptance.gate_id] = acceptance
    return state


def acceptances_by_run(runs: list[GateRun]) -> dict[int, list[GateAcceptance]]:
    """Every acceptance of these runs (counted or not), oldest first: one query."""
    out: dict[int, list[GateAcceptance]] = {}
    for acceptance in GateAcceptance.objects.filter(gate_run__in=runs).select_related("user").order_by("created_at"):
        out.setdefault(acceptance.gate_run_id, []).append(acceptance)
    return out


def gate_acceptance_right_for(
    user,
    request: PromotionRequest,
    gate_id: str,
    *,
    acceptances: GateAcceptanceState,
    slots: SlotState,
    run: GateRun | None,
    held_roles: set[str] | None = None,
) -> AcceptanceRight:
    """May this user accept this gate of this request now, and if not, why."""
    if held_roles is None:
        held_roles = roles_for_model(user, request.version.model)
    accepted = acceptances.accepted.get(gate_id)
    authenticated = bool(user and user.is_authenticated)
    return gate_acceptance_right(
        AcceptanceFacts(
            user_id=user.pk if authenticated else None,
            held_roles=frozenset(held_roles),
            accept_by=acceptances.accept_by.get(gate_id, ""),
            gate_inconclusive=run is not None and run.status == GateStatus.INCONCLUSIVE,
            awaiting=request.status == RequestStatus.AWAITING_APPROVALS,
            accepted_by=str(accepted.user) if accepted else "",
            requested_by_id=request.requested_by_id,
            is_author=authenticated and user.pk == request.version.created_by_id,
            excluded_as=_excluded_as(user, request) if authenticated else "",
            fills_a_slot=authenticated
            and any(slot.decision is not None and slot.decision.user_id == user.pk for slot in slots.slots),
            by_service_token=token_scope(user) is not None,
        )
    )


def users_who_may_accept(request: PromotionRequest, gate_id: str, *, run: GateRun, slots: SlotState) -> list:
    """Everyone who may accept this inconclusive gate now (its notification's recipients, the
    page's "who may accept"): holders of the role, minus what separation of duties excludes."""
    acceptances = gate_acceptance_state(request, [run])
    role = acceptances.accept_by.get(gate_id)
    if not role:
        return []
    model = request.version.model
    candidates = users_holding_roles(model, [role])
    held = roles_by_user_and_model(candidates, [model])
    users = get_user_model().objects.filter(pk__in=candidates, is_active=True).order_by("username")
    return [
        u
        for u in users
        if gate_acceptance_right_for(
            u, request, gate_id, acceptances=acceptances, slots=slots, run=run, held_roles=held.get((u.pk, model.pk))
        ).may_accept
    ]


def inconclusive_needs(request: PromotionRequest, gate_ids: list[str]) -> str:
    """'p95 (needs at least 72 latency rows, 22 more)', from each inconclusive outcome's
    details.needed; the gate id alone when the outcome says nothing more."""
    outcomes = dict(request.gate_runs.current().filter(gate_id__in=gate_ids).values_list("gate_id", "outcome"))
    parts = []
    for gate_id in gate_ids:
        needed = ((outcomes.get(gate_id) or {}).get("details") or {}).get("needed") or {}
        parts.append(f"{gate_id} (needs {needed['text']})" if needed.get("text") else gate_id)
    return ", ".join(parts)


def awaiting_acceptance_reason(request: PromotionRequest, gate_ids: list[str], accept_by: dict[str, str]) -> str:
    """The status reason while inconclusive gates wait: what each needs and who may accept it."""
    parts = [f"{inconclusive_needs(request, [g])} by a {role_label(accept_by[g])}" for g in gate_ids]
    return "Gates inconclusive, awaiting acceptance: " + "; ".join(parts)


def acceptance_record(*, request: PromotionRequest, run: GateRun, user, role: str, reason: str, ticket_id: str):
    """Write an acceptance and its audit event, inside the promotion service's transaction
    (`services.promotion_gate_accept`, which checked the right to accept)."""
    try:
        with transaction.atomic():
            made = GateAcceptance.objects.create(
                request=request,
                gate_run=run,
                gate_id=run.gate_id,
                round=run.round,
                user=user,
                role=role,
                reason=reason[:5000],
                ticket_id=ticket_id[:100],
            )
    except IntegrityError:
        raise PromotionError("You already accepted this gate outcome.", code="duplicate") from None
    audit_record(
        actor=user,
        action="promotion.gate_accepted",
        obj=request,
        model_name=request.version.model.name,
        data={
            "acceptance_id": made.pk,
            "gate_id": run.gate_id,
            "gate_run": run.pk,
            "round": run.round,
            "role": role,
            "reason": made.reason,
            "ticket_id": made.ticket_id,
            "needed": ((run.outcome or {}).get("details") or {}).get("needed"),
        },
    )
    return made


@dataclass
class GateAcceptanceView:
    """One gate's acceptance as the request page, the API and the PDF show it."""

    gate_id: str
    accept_by: str  # the role the policy names, "" when an inconclusive outcome blocks
    acceptance: GateAcceptance | None  # the one that counts
    stale: list[tuple[GateAcceptance, str]]  # given, but not counting (role revoked)
    may_accept: bool  # the viewing user may accept it now
    why_not: str  # why not (when the gate waits for an acceptance)
    acceptors: list  # who may accept it now (while it waits)


def gate_acceptance_views(
    user, request: PromotionRequest, runs: list[GateRun], slots: SlotState, held_roles: set[str] | None = None
) -> dict[str, GateAcceptanceView]:
    """Per gate of the current round: the policy's accept_by, the counted acceptance, and for
    an inconclusive gate still waiting, who may accept it and whether `user` may.
    `held_roles`: the user's roles on the model when the caller has them (`roles_for_model`)."""
    state = gate_acceptance_state(request, runs)
    if not (user and user.is_authenticated):
        held = set()
    elif held_roles is not None:
        held = held_roles
    elif state.awaiting:
        held = roles_for_model(user, request.version.model)
    else:
        held = set()  # no gate waits for an acceptance: nobody's roles are asked
    views = {}
    for run in runs:
        role = state.accept_by.get(run.gate_id, "")
        waits = run.gate_id in state.awaiting
        right = (
            gate_acceptance_right_for(
                user, request, run.gate_id, acceptances=state, slots=slots, run=run, held_roles=held
            )
            if waits
            else None
        )
        views[run.gate_id] = GateAcceptanceView(
            gate_id=run.gate_id,
            accept_by=role,
            acceptance=state.accepted.get(run.gate_id),
            stale=[(a, why) for a, why in state.stale if a.gate_id == run.gate_id],
            may_accept=bool(right and right.may_accept),
            why_not=right.why_not if right and not right.may_accept else "",
            acceptors=users_who_may_accept(request, run.gate_id, run=run, slots=slots) if waits else [],
        )
    return views


def acceptance_out(acceptance: GateAcceptance) -> dict:
    """An acceptance as JSON (the API, the PDF's data)."""
    return {
        "user": acceptance.user.username,
        "role": acceptance.role,
        "reason": acceptance.reason,
        "ticket_id": acceptance.ticket_id,
        "accepted_at": acceptance.created_at.isoformat(),
        "round": acceptance.round,
    }


def acceptance_refused_record(*, user, request: PromotionRequest, gate_id: str, code: str, why: str) -> None:
    """A refused acceptance is a governance fact too: audited in a transaction of its own."""
    with transaction.atomic():
        audit_record(
            actor=user,
            action="promotion.gate_acceptance_refused",
            obj=request,
            model_name=request.version.model.name,
            data={"gate_id": gate_id, "code": code, "reason": why},
        )
