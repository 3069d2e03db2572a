"""Required approval slots and who fills them. Pure over its inputs (no queries)."""

from __future__ import annotations

from dataclasses import dataclass, field

from governance.accounts.roles import Role
from governance.approvals.models import Decision, DecisionKind
from governance.registry.models import RiskTier, Stage


def default_required_approvals(*, from_stage: str, to_stage: str, risk_tier: str) -> list[dict]:
    """Who signs off where no policy says otherwise: a reviewer into staging; model and product
    owners into production, plus compliance and risk for regulated and safety-critical tiers, and a
    domain expert for safety-critical ones."""
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
    required_approvals: list[dict],
    decisions: list[Decision],
    roles_by_user: dict[int, set[str]],
    current_round: int = 1,
) -> SlotState:
    """Fill the required slots from approvals of the current gate round still backed by the
    author's current role.

    `required_approvals` is the request's frozen [{"role", "count"}]; `roles_by_user` maps
    user id → roles held now on the model. An approval from an earlier round was given on
    evidence that has changed since: it is stale. One person fills at most one slot (a
    database constraint guarantees it too).
    """
    slots = [Slot(role=item["role"], index=i + 1) for item in required_approvals for i in range(item.get("count", 1))]
    state = SlotState(slots=slots)
    used_users: set[int] = set()
    for decision in decisions:
        if decision.decision != DecisionKind.APPROVE or decision.user_id in used_users:
            continue
        if decision.round < current_round:
            state.stale.append((decision, f"given on round {decision.round}, before the evidence changed"))
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
