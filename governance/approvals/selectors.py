"""Reading promotion requests: the approver inbox, request pages. Constant query counts."""

from __future__ import annotations

from dataclasses import dataclass

from governance.accounts.permissions import models_visible_to, roles_by_model, roles_by_user_and_model
from governance.approvals.models import OPEN_STATUSES, DecisionKind, PromotionRequest
from governance.approvals.services import SlotState, approval_slots


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


def slot_states_for(requests: list[PromotionRequest]) -> dict[int, SlotState]:
    """Slot state of many requests; decision authors' current roles in two queries."""
    models = {r.version.model_id: r.version.model for r in requests}
    authors = {d.user_id for r in requests for d in r.decisions.all() if d.decision == DecisionKind.APPROVE}
    held = roles_by_user_and_model(authors, models.values())
    states = {}
    for r in requests:
        decisions = list(r.decisions.all())
        roles_by_user = {d.user_id: held.get((d.user_id, r.version.model_id), set()) for d in decisions}
        states[r.pk] = approval_slots(r, decisions, roles_by_user)
    return states


def inbox_for_user(user) -> list[InboxItem]:
    """Open requests where the user could fill a required slot now."""
    if not (user and user.is_authenticated):
        return []
    requests = list(_open_requests_visible_to(user))
    if not requests:
        return []
    mine = roles_by_model(user, {r.version.model_id: r.version.model for r in requests}.values())
    states = slot_states_for(requests)
    items = []
    for r in requests:
        if r.requested_by_id == user.pk:
            continue
        if any(d.user_id == user.pk for d in r.decisions.all()):
            continue
        state = states[r.pk]
        could = sorted(mine.get(r.version.model_id, set()) & state.open_roles)
        if could:
            items.append(InboxItem(request=r, slot_state=state, my_roles=could))
    return items
