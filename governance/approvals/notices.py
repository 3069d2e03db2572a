"""What the promotion service tells people: recorded through `notifications.notify` in the
change's transaction (sent after commit by the notifications app)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from governance.accounts.permissions import users_holding_roles
from governance.accounts.roles import Role
from governance.approvals.acceptances import inconclusive_needs, role_label, users_who_may_accept
from governance.approvals.manifest import manifest_changes, request_manifest
from governance.approvals.models import PromotionRequest
from governance.approvals.selectors import users_who_may_approve
from governance.approvals.slots import SlotState
from governance.notifications.services import notify
from governance.registry.models import RegisteredModel


def owners(model: RegisteredModel) -> list:
    ids = users_holding_roles(model, [Role.MODEL_OWNER])
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True))


def request_notify(request: PromotionRequest, kind: str, users, message: str, key: str = "") -> None:
    notify(event=kind, request=request, recipients=users, message=message, key=key)


def notify_pending_approvers(request: PromotionRequest, state: SlotState) -> None:
    """Everyone who may fill an open slot now: the same rule as the inbox."""
    users = users_who_may_approve(request, state)
    # Who approved an earlier round is asked again, with what changed since they looked.
    stale = {decision.user_id: decision for decision, _ in state.stale if decision.round < request.gate_round}
    key = f"round-{request.gate_round}"
    again = [u for u in users if u.pk in stale]
    if again:
        now = request_manifest(request)
        for user in again:
            changes = manifest_changes(stale[user.pk].manifest, now)
            message = f"{request} changed since you approved it ({'; '.join(changes) or 'evidence changed'})."
            request_notify(request, "approval_stale", [user], message, key=key)
    request_notify(
        request,
        "approval_needed",
        [u for u in users if u.pk not in stale],
        f"{request} waits for your sign-off.",
        key=key,
    )


def notify_gate_acceptors(request: PromotionRequest, runs: list, accept_by: dict[str, str], slots: SlotState) -> None:
    """Everyone who may accept each inconclusive gate (once per gate and round)."""
    for run in runs:
        request_notify(
            request,
            "gate_acceptance_needed",
            users_who_may_accept(request, run.gate_id, run=run, slots=slots),
            f"{request}: gate {inconclusive_needs(request, [run.gate_id])} is inconclusive; "
            f"as {role_label(accept_by[run.gate_id])} you may accept it.",
            key=f"round-{request.gate_round}-{run.gate_id}",
        )
