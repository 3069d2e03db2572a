"""Reading accounts: who holds which role where (the roles page and the API list it)."""

from __future__ import annotations

from dataclasses import dataclass

from governance.accounts.models import ModelUserObjectPermission, TeamUserObjectPermission
from governance.accounts.permissions import ROLE_PREFIX


@dataclass(frozen=True)
class RoleHolding:
    scope: str  # "team" or "model"
    target: str  # the team's or the model's name
    username: str
    roles: tuple[str, ...]


def role_holdings() -> list[RoleHolding]:
    """One row per (team or model, user) with every role held there; teams first. Two queries."""
    rows: dict[tuple[str, str, str], list[str]] = {}
    for scope, table in (("team", TeamUserObjectPermission), ("model", ModelUserObjectPermission)):
        grants = (
            table.objects.filter(permission__codename__startswith=ROLE_PREFIX)
            .order_by("content_object__name", "user__username", "permission__codename")
            .values_list("content_object__name", "user__username", "permission__codename")
        )
        for target, username, codename in grants:
            rows.setdefault((scope, target, username), []).append(codename[len(ROLE_PREFIX) :])
    return [RoleHolding(scope, target, username, tuple(roles)) for (scope, target, username), roles in rows.items()]
