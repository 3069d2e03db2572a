"""Reading promotion requests: the approver inbox, request pages, the API. Constant query counts.

Who may decide is `accounts.permissions.decision_right`; this module only gathers its facts
(the user's roles, the request's slots, who filled them) and asks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from functools import cached_property

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    When,
)
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.utils import timezone

from governance.accounts.permissions import (
    DecisionFacts,
    DecisionRight,
    decision_right,
    require,
    roles_by_user_and_model,
    roles_for_model,
    roles_for_model_with,
    token_scope,
    users_holding_roles,
)
from governance.accounts.roles import Action
from governance.approvals.models import (
    DECIDABLE_STATUSES,
    OPEN_STATUSES,
    DecisionKind,
    GateAcceptance,
    PromotionRequest,
)
from governance.approvals.sla import AWAITING_APPROVALS, SlaState, sla_state
from governance.approvals.slots import SlotState, approval_slots
from governance.registry.selectors import models_visible_to


@dataclass
class InboxItem:
    request: PromotionRequest
    slot_state: SlotState
    my_roles: list[str]  # the required roles I could fill now
    sla: SlaState | None = None  # when approvals are due (None: no SLA clock runs)
    accept_gates: list[str] = dataclass_field(default_factory=list)  # inconclusive gates I may accept now


def _with_related(requests: QuerySet[PromotionRequest]) -> QuerySet[PromotionRequest]:
    """What an inbox row shows, loaded with the rows: model, team, requester, decisions."""
    return requests.select_related("version__model__team", "requested_by").prefetch_related("decisions__user")


def _requests_visible_to(user) -> QuerySet[PromotionRequest]:
    return PromotionRequest.objects.filter(version__model__in=models_visible_to(user))


def _open_requests_visible_to(user):
    return _with_related(_requests_visible_to(user).filter(status__in=OPEN_STATUSES)).order_by("requested_at")


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
        states[r.pk] = approval_slots(r.required_approvals, decisions, roles_by_user, r.gate_round)
    return states


def _approvers(requests: list[PromotionRequest]) -> set[int]:
    return {d.user_id for r in requests for d in r.decisions.all() if d.decision == DecisionKind.APPROVE}


def request_slot_state(request: PromotionRequest) -> SlotState:
    """Slot state of one request, read fresh (the promotion service calls it under lock)."""
    decisions = list(request.decisions.select_related("user").all())
    approvers = {d.user_id for d in decisions if d.decision == DecisionKind.APPROVE}
    held = roles_by_user_and_model(approvers, [request.version.model])
    roles_by_user = {uid: held.get((uid, request.version.model_id), set()) for uid in approvers}
    return approval_slots(request.required_approvals, decisions, roles_by_user, request.gate_round)


def decision_facts(user, request: PromotionRequest, state: SlotState, held_roles: set[str]) -> DecisionFacts:
    return DecisionFacts(
        user_id=user.pk if user and user.is_authenticated else None,
        held_roles=frozenset(held_roles),
        required_roles=tuple(item["role"] for item in request.required_approvals),
        open_roles=frozenset(state.open_roles),
        request_open=request.status in DECIDABLE_STATUSES,
        requested_by_id=request.requested_by_id,
        fills_a_slot=any(slot.decision is not None and slot.decision.user_id == user.pk for slot in state.slots),
        accepted_a_gate=_accepted_a_gate(user, request),
        is_author=user.pk is not None and user.pk == request.version.created_by_id,
        excluded_as=_excluded_as(user, request),
        by_service_token=token_scope(user) is not None,
    )


def _accepted_a_gate(user, request: PromotionRequest) -> bool:
    """Whether the user accepted an inconclusive gate of the request's current round (their
    sign-off). A query only for a request whose policy lets a role accept a gate."""
    if not (user and user.is_authenticated) or not any(
        isinstance(g.get("on_inconclusive"), dict) for g in request.required_gates or []
    ):
        return False
    return GateAcceptance.objects.filter(request=request, round=request.gate_round, user=user).exists()


def _excluded_as(user, request: PromotionRequest) -> str:
    """The group of `exclude_from_approval` the user belongs to for this version, if any
    (a query only when the request's policy excludes a group)."""
    from governance.evidence.models import Artifact, Document

    groups = request.exclude_from_approval or []
    if (
        "evidence_uploaders" in groups
        and Artifact.objects.filter(version_id=request.version_id, uploaded_by=user).exists()
    ):
        return "evidence uploader"
    if "document_editors" in groups and Document.objects.filter(version_id=request.version_id, author=user).exists():
        return "document editor"
    return ""


def decision_right_for(
    user, request: PromotionRequest, state: SlotState | None = None, held_roles: set[str] | None = None
) -> DecisionRight:
    """May this user decide on this request now, in which roles, and if not, why."""
    if state is None:
        state = request_slot_state(request)
    if held_roles is None:
        held_roles = roles_for_model(user, request.version.model)
    return decision_right(decision_facts(user, request, state, held_roles))


@dataclass
class RequestForUser:
    """One request as a user reads it (its page, the API): loaded with its model, team,
    requester and decisions; its slot state; the user's roles on its model
    and what `decision_right` answers. The roles are resolved once, with the approvers'
    (two queries), and handed to every rule that needs them."""

    request: PromotionRequest
    slot_state: SlotState
    roles: set[str]  # the user's roles on the model now (none outside a service token's scope)
    right: DecisionRight


def request_for_user(user, pk: int, related: tuple[str, ...] = ()) -> RequestForUser:
    """A request the user may see, with its model, team, requester and decisions (and the
    `related` its page shows too): 404 when there is no such request or the user may not see
    its model (`require`)."""
    request = get_object_or_404(_with_related(PromotionRequest.objects.select_related(*related)), pk=pk)
    model = request.version.model
    roles, held = roles_for_model_with(user, model, _approvers([request]))
    require(user, Action.VIEW, model, roles=roles)
    state = slot_states_for([request], held)[request.pk]
    return RequestForUser(request, state, roles, decision_right_for(user, request, state, roles))


def inbox_for_user(user, now: datetime | None = None) -> list[InboxItem]:
    """Open requests where the user could fill a required slot now: most urgent first (overdue,
    then soonest due), then oldest."""
    if not (user and user.is_authenticated):
        return []
    now = now or timezone.now()
    items = [
        item
        for item in inbox_items(user, list(_open_requests_visible_to(user)), now)
        if item.my_roles or item.accept_gates
    ]
    return sorted(items, key=lambda item: (item.sla is None, item.sla.due_at if item.sla else None))


def inbox_items(user, requests: list[PromotionRequest], now: datetime) -> list[InboxItem]:
    """Rows of any inbox tab: slot states, the roles the user may approve in now, the SLA.

    `requests` come with `version__model__team`, `requested_by` and `decisions__user` loaded
    (`_with_related`); roles held are two queries for the whole list, whatever its length.
    """
    if not requests:
        return []
    models = {r.version.model_id: r.version.model for r in requests}
    held = roles_by_user_and_model(_approvers(requests) | {user.pk}, models.values())  # two queries
    states = slot_states_for(requests, held)
    items = []
    for r in requests:
        mine = held.get((user.pk, r.version.model_id), set())
        right = decision_right_for(user, r, states[r.pk], mine)
        items.append(
            InboxItem(
                request=r,
                slot_state=states[r.pk],
                my_roles=list(right.approve_roles),
                sla=sla_state(r, now),
                accept_gates=_gates_to_accept(user, r, states[r.pk], mine),
            )
        )
    return items


def _gates_to_accept(user, request: PromotionRequest, state: SlotState, held_roles: set[str]) -> list[str]:
    """The inconclusive gates of a request awaiting approvals that this user may accept now.
    No query unless the request's frozen policy lets a role the user holds accept a gate
    (`on_inconclusive: {accept_by: ROLE}`); then the acceptance state's three."""
    from governance.approvals import acceptances  # acceptances reads this module's helpers

    if request.status != AWAITING_APPROVALS:
        return []
    accept_by = acceptances.accept_by_of(request)
    if not accept_by or not set(accept_by.values()) & held_roles:
        return []
    runs = {run.gate_id: run for run in request.gate_runs.current()}
    found = acceptances.gate_acceptance_state(request, list(runs.values()))
    return [
        gate_id
        for gate_id in found.awaiting
        if acceptances.gate_acceptance_right_for(
            user, request, gate_id, acceptances=found, slots=state, run=runs.get(gate_id), held_roles=held_roles
        ).may_accept
    ]


# --- The inbox as a work queue: tabs, filters, due dates ----------------------------------

INBOX_TABS = {
    "waiting": "Waiting for me",
    "mine": "Raised by me",
    "scope": "All open in my scope",
    "decided": "Recently decided",
}
RECENTLY_DECIDED_DAYS = 30
INBOX_PAGE_SIZE = 50


def _with_due_at(requests: QuerySet[PromotionRequest]) -> QuerySet[PromotionRequest]:
    """Annotate `sla_due_at`, the rule of `sla.due_at` in SQL: `status_changed_at + sla_hours`
    while the request awaits approvals, else NULL. (The cast: SQLite multiplies a duration by
    a plain integer column only.)"""
    hours = ExpressionWrapper(Cast("sla_hours", IntegerField()) * timedelta(hours=1), output_field=DurationField())
    due = Case(
        When(status=AWAITING_APPROVALS, sla_hours__gt=0, then=F("status_changed_at") + hours),
        default=None,
        output_field=DateTimeField(),
    )
    return requests.annotate(sla_due_at=due)


@dataclass(frozen=True)
class InboxFilters:
    """What the inbox page's filter form asks for; empty values do not filter."""

    team: str = ""
    risk_tier: str = ""
    change_type: str = ""
    transition: str = ""  # "staging->production"
    overdue: bool = False

    def apply(self, requests: QuerySet[PromotionRequest], now: datetime) -> QuerySet[PromotionRequest]:
        if self.team:
            requests = requests.filter(version__model__team__name=self.team)
        if self.risk_tier:
            requests = requests.filter(version__model__risk_tier=self.risk_tier)
        if self.change_type:
            requests = requests.filter(change_type=self.change_type)
        if self.transition:
            src, _, dst = self.transition.partition("->")
            requests = requests.filter(from_stage=src, to_stage=dst)
        if self.overdue:
            if "sla_due_at" not in requests.query.annotations:
                requests = _with_due_at(requests)
            requests = requests.filter(sla_due_at__lte=now)
        return requests


def requests_raised_by(user) -> QuerySet[PromotionRequest]:
    """Requests the user filed, any status, newest first (models they still see)."""
    return _with_related(_requests_visible_to(user).filter(requested_by=user)).order_by("-requested_at", "-pk")


def requests_open_in_scope(user) -> QuerySet[PromotionRequest]:
    """Every open request of the models the user sees: overdue and soonest due first, then oldest."""
    open_requests = _with_due_at(_requests_visible_to(user).filter(status__in=OPEN_STATUSES))
    return _with_related(open_requests).order_by(F("sla_due_at").asc(nulls_last=True), "requested_at", "pk")


def requests_closed_recently(user, now: datetime, days: int = RECENTLY_DECIDED_DAYS) -> QuerySet[PromotionRequest]:
    """Requests of the models the user sees that closed in the last `days` days, newest first."""
    closed = _requests_visible_to(user).exclude(status__in=OPEN_STATUSES)
    closed = closed.filter(status_changed_at__gte=now - timedelta(days=days))
    return _with_related(closed).order_by("-status_changed_at", "-pk")


def inbox_tab_counts(user, filters: InboxFilters, now: datetime) -> dict[str, int]:
    """How many requests each tab but "waiting" holds under `filters`: one query."""
    cutoff = now - timedelta(days=RECENTLY_DECIDED_DAYS)
    is_open = Q(status__in=OPEN_STATUSES)
    return filters.apply(_requests_visible_to(user), now).aggregate(
        mine=Count("pk", filter=Q(requested_by=user)),
        scope=Count("pk", filter=is_open),
        decided=Count("pk", filter=~is_open & Q(status_changed_at__gte=cutoff)),
    )


@dataclass
class InboxTab:
    tab: str
    page: Page  # of InboxItem
    counts: dict[str, int]  # per tab, under the same filters
    waiting_total: int  # waiting for the user, unfiltered (the navigation's count)

    @cached_property  # the template asks once per row
    def shows_due(self) -> bool:
        """Whether a request on this page has an approval deadline (else no "Due" column)."""
        return any(item.request.sla_hours for item in self.page.object_list)


def inbox_tab(user, *, tab: str, filters: InboxFilters, now: datetime, page: int | str | None = 1) -> InboxTab:
    """One page of one inbox tab, with every tab's count, in a constant number of queries."""
    everything = inbox_for_user(user, now)
    waiting = everything
    if everything and filters != InboxFilters():
        candidates = _requests_visible_to(user).filter(pk__in=[item.request.pk for item in everything])
        wanted = set(filters.apply(candidates, now).values_list("pk", flat=True))
        waiting = [item for item in everything if item.request.pk in wanted]
    counts = {"waiting": len(waiting), **inbox_tab_counts(user, filters, now)}
    if tab == "waiting":  # the to-do list: all of it on one page
        shown = Paginator(waiting, max(len(waiting), 1)).get_page(1)
    else:
        requests = {
            "mine": requests_raised_by(user),
            "scope": requests_open_in_scope(user),
            "decided": requests_closed_recently(user, now),
        }[tab]
        shown = Paginator(filters.apply(requests, now), INBOX_PAGE_SIZE).get_page(page)
        shown.object_list = inbox_items(user, list(shown.object_list), now)
    return InboxTab(tab=tab, page=shown, counts=counts, waiting_total=len(everything))


# --- SLA reminders ------------------------------------------------------------------------


def requests_overdue(now: datetime) -> QuerySet[PromotionRequest]:
    """Requests whose approvals are past due (any model: the daily reminder reads it)."""
    return _with_related(_with_due_at(PromotionRequest.objects.all())).filter(sla_due_at__lte=now).order_by("pk")


def users_who_may_approve(request: PromotionRequest, state: SlotState) -> list:
    """Everyone who may fill an open slot of `request` now: the inbox's rule (decision_right)."""
    model = request.version.model
    candidates = users_holding_roles(model, state.open_roles)
    held = roles_by_user_and_model(candidates, [model])
    users = get_user_model().objects.filter(pk__in=candidates, is_active=True).order_by("pk")
    return [u for u in users if decision_right_for(u, request, state, held.get((u.pk, model.pk), set())).may_approve]
