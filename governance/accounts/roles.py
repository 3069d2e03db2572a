"""Roles of DESIGN.md and the actions each one may take. Pure data, no queries."""

from __future__ import annotations

from django.db import models

from governance.core.vocabulary import ROLES, choices

# Choices from the one vocabulary: Role.RISK_OFFICER == "risk_officer".
Role = models.TextChoices("Role", choices(ROLES))


ROLE_NAMES: tuple[str, ...] = tuple(Role.values)


def role_permission(role: str) -> str:
    """Codename of the guardian object permission that carries a role."""
    return f"role_{role}"


ROLE_PERMISSIONS = [(role_permission(r.value), f"Holds the {r.label} role") for r in Role]


class Action(models.TextChoices):
    VIEW = "view"
    REGISTER_VERSION = "register_version"  # also: upload evidence, edit documents
    REQUEST = "request"  # file a promotion request
    DECIDE = "decide"  # approve / reject / request changes (plus slot rules)
    CANCEL = "cancel"
    ROLLBACK = "rollback"
    EXPORT = "export"  # audit exports and reports
    CREATE_MODEL = "create_model"  # on a team
    DRY_RUN = "dry_run"  # would this version pass? (gates/dry_run.py, computed by a worker)
    ISSUE_SERVICE_TOKEN = "issue_service_token"  # on a team: its "team admins"
    MANAGE_WEBHOOKS = "manage_webhooks"  # on a team: register, edit, rotate, redeliver webhooks


# Which roles allow which action on a model (or on its team). Staff admins may do all.
ACTION_ROLES: dict[str, frozenset[str]] = {
    Action.VIEW: frozenset(ROLE_NAMES),
    Action.REGISTER_VERSION: frozenset({Role.MODEL_OWNER, Role.MLOPS}),
    Action.REQUEST: frozenset({Role.MODEL_OWNER, Role.MLOPS}),
    Action.DECIDE: frozenset(set(ROLE_NAMES) - {Role.AUDITOR}),
    Action.CANCEL: frozenset({Role.MODEL_OWNER, Role.MLOPS}),
    Action.ROLLBACK: frozenset({Role.MODEL_OWNER, Role.MLOPS}),
    Action.EXPORT: frozenset({Role.AUDITOR, Role.COMPLIANCE_OFFICER, Role.RISK_OFFICER, Role.MODEL_OWNER}),
    Action.CREATE_MODEL: frozenset({Role.MODEL_OWNER, Role.MLOPS}),
    Action.MANAGE_WEBHOOKS: frozenset({Role.MODEL_OWNER, Role.MLOPS}),
    # Those who file requests and those who decide on them; not the read-only auditor.
    Action.DRY_RUN: frozenset({Role.MODEL_OWNER, Role.MLOPS} | (set(ROLE_NAMES) - {Role.AUDITOR})),
    # Team admins: a model owner or MLOps engineer of the whole team (a grant on the team,
    # not on one model) may issue service tokens scoped to that team.
    Action.ISSUE_SERVICE_TOKEN: frozenset({Role.MODEL_OWNER, Role.MLOPS}),
}
