"""Reading promotion requests: the approver inbox, request pages, the API. Constant query counts.

Who may decide is `accounts.permissions.decision_right`; this module only gathers its facts
(the user's roles, the request's slots, who filled them) and asks it.
"""

from __future__ import annotations

from dataclasses import dataclass

from governance.accounts.permissions import (
    DecisionFacts,
    DecisionRight,
    decision_right,
    roles_by_user_and_model,
    roles_for_model,
)
from governance.approvals.models import OPEN_STATUSES, DecisionKind, PromotionRequest
from governance.approvals.slots import SlotState, approval_slots
from governance.registry.selectors import models_visible_to


@dataclass
class InboxItem:
    request: PromotionRequest
    slot_state: SlotState
    my_roles: list[str]  # the required roles I could fill now


def _open_requests_visible_to(user):
    return (
        PromotionRequest.objects.filter(status__in=OPEN_STATUSES, version__model__in=models_visible_to(user))
        .select_related("version__model__team", "requested_by")
        .prefetch_related("decisions__user")
        .order_by("requested_at")
    )


def slot_states_for(
    requests: list[PromotionRequest], held: dict[tuple[int, int], set[str]] | None = None
) -> dict[int, SlotState]:
    """Slot state of many requests (decisions prefetched); authors' current roles in two queries
    (none when `held` already has them, from `roles_by_user_and_model`)."""
    if held is None:
        models = {r.version.model_id: r.version.model for r in requests}
        held = roles_by_user_and_model(_approvers(requests), models.values())
    states = {}
    for r in requests:
        decisions = list(r.decisions.all())
        roles_by_user = {d.user_id: held.get((d.user_id, r.version.model_id), set()) for d in decisions}
        states[r.pk] = approval_slots(r.required_approvals, decisions, roles_by_user)
    return states


def _approvers(requests: list[PromotionRequest]) -> set[int]:
    return {d.user_id for r in requests for d in r.decisions.all() if d.decision == DecisionKind.APPROVE}


def request_slot_state(request: PromotionRequest) -> SlotState:
    """Slot state of one request, read fresh (the promotion service calls it under lock)."""
    decisions = list(request.decisions.select_related("user").all())
    approvers = {d.user_id for d in decisions if d.decision == DecisionKind.APPROVE}
    held = roles_by_user_and_model(approvers, [request.version.model])
    roles_by_user = {uid: held.get((uid, request.version.model_id), set()) for uid in approvers}
    return approval_slots(request.required_approvals, decisions, roles_by_user)


def decision_facts(user, request: PromotionRequest, state: SlotState, held_roles: set[str]) -> DecisionFacts:
    return DecisionFacts(
        user_id=user.pk if user and user.is_authenticated else None,
        held_roles=frozenset(held_roles),
        required_roles=tuple(item["role"] for item in request.required_approvals),
        open_roles=frozenset(state.open_roles),
        request_open=request.status in OPEN_STATUSES,
        requested_by_id=request.requested_by_id,
        fills_a_slot=any(slot.decision is not None and slot.decision.user_id == user.pk for slot in state.slots),
    )


def decision_right_for(
    user, request: PromotionRequest, state: SlotState | None = None, held_roles: set[str] | None = None
) -> DecisionRight:
    """May this user decide on this request now, in which roles, and if not, why."""
    if state is None:
        state = request_slot_state(request)
    if held_roles is None:
        held_roles = roles_for_model(user, request.version.model)
    return decision_right(decision_facts(user, request, state, held_roles))


def inbox_for_user(user) -> list[InboxItem]:
    """Open requests where the user could fill a required slot now."""
    if not (user and user.is_authenticated):
        return []
    requests = list(_open_requests_visible_to(user))
    if not requests:
        return []
    models = {r.version.model_id: r.version.model for r in requests}
    held = roles_by_user_and_model(_approvers(requests) | {user.pk}, models.values())  # two queries
    states = slot_states_for(requests, held)
    items = []
    for r in requests:
        right = decision_right_for(user, r, states[r.pk], held.get((user.pk, r.version.model_id), set()))
        if right.may_approve:
            items.append(InboxItem(request=r, slot_state=states[r.pk], my_roles=list(right.approve_roles)))
    return items
