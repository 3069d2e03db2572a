"""Teams, role grants and API token revocation. Every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from governance.accounts.models import ApiToken, Team
from governance.accounts.permissions import user_may_issue_token, user_may_manage_roles, user_may_revoke_token
from governance.accounts.roles import ROLE_NAMES, role_permission
from governance.accounts.sessions import sessions_end
from governance.audit.services import audit_record
from governance.core.errors import DomainError

if TYPE_CHECKING:
    from governance.registry.models import RegisteredModel


class RoleError(DomainError):
    """A refused role change (unknown role, no or two scopes)."""


@transaction.atomic
def team_create(*, actor, name: str, display_name: str = "") -> Team:
    if actor is not None and not user_may_manage_roles(actor):
        raise PermissionDenied("Only admins create teams.")
    team, created = Team.objects.get_or_create(name=name, defaults={"display_name": display_name})
    if created:
        audit_record(actor=actor, action="team.created", obj=team, data={"name": name})
    return team


def _target(role: str, team: Team | None, model: RegisteredModel | None):
    if role not in ROLE_NAMES:
        raise RoleError(f"unknown role {role!r}; roles are: {', '.join(ROLE_NAMES)}", field="role")
    if (team is None) == (model is None):
        raise RoleError("give exactly one of a team or a model")
    return team if team is not None else model


def role_grant(*, actor, user, role: str, team: Team | None = None, model: RegisteredModel | None = None) -> None:
    _role_change(actor=actor, user=user, role=role, team=team, model=model, grant=True)


def role_revoke(*, actor, user, role: str, team: Team | None = None, model: RegisteredModel | None = None) -> None:
    """Approvals the user gave in this role stop counting at once (slots are recomputed)."""
    _role_change(actor=actor, user=user, role=role, team=team, model=model, grant=False)


@transaction.atomic
def _role_change(*, actor, user, role: str, team: Team | None, model: RegisteredModel | None, grant: bool) -> None:
    target = _target(role, team, model)
    if actor is not None and not user_may_manage_roles(actor):
        raise PermissionDenied(f"Only admins {'grant' if grant else 'revoke'} roles.")
    (assign_perm if grant else remove_perm)(f"{target._meta.app_label}.{role_permission(role)}", user, target)
    # A revoked role also ends the user's browser sessions: pages open elsewhere (a decision
    # form, a report) are gone, and the next sign-in starts from the roles as they are now.
    ended = 0 if grant else sessions_end(user)
    audit_record(
        actor=actor,
        action="role.granted" if grant else "role.revoked",
        obj=target,
        model_name=model.name if model else "",
        data={
            "user": user.get_username(),
            "role": role,
            "scope": "model" if model else "team",
            "target": str(target.name),
        }
        | ({} if grant else {"sessions_ended": ended}),
    )


# --- API tokens --------------------------------------------------------------------------


class TokenError(DomainError):
    """A refused token (bad expiry, a service token without teams or expiry, a long name)."""


NAME_MAX = 100


def _token_checks(
    *, name: str, teams: list[Team], expires_at: datetime | None, not_after: datetime | None, now: datetime
) -> None:
    if len(name) > NAME_MAX:
        raise TokenError(f"name: at most {NAME_MAX} characters.", field="name")
    if expires_at is not None and expires_at <= now:
        raise TokenError("expires_at: must be in the future.", field="expires_at")
    if teams:
        if expires_at is None:
            raise TokenError("expires_at: a service token (scoped to teams) must expire.", field="expires_at")
        longest = settings.SERVICE_TOKEN_MAX_DAYS
        if expires_at > now + timedelta(days=longest):
            raise TokenError(f"expires_at: a service token lives at most {longest} days.", field="expires_at")
    if not_after is not None and (expires_at is None or expires_at > not_after):
        raise TokenError(
            f"expires_at: a token issued with an expiring token must expire by {not_after:%Y-%m-%d %H:%M} UTC.",
            field="expires_at",
        )


@transaction.atomic
def token_issue(
    *,
    actor,
    user,
    name: str = "",
    via: str,
    teams: Iterable[Team] = (),
    expires_at: datetime | None = None,
    not_after: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue an API token for `user` (the key is returned once, stored hashed), as an audit
    event: which user, the token's prefix, name, scope and expiry, who issued it and how.

    No teams: a personal token (optional expiry). Teams: a service token, limited to those
    teams' models, never deciding, expiring within SERVICE_TOKEN_MAX_DAYS. `actor` None is
    an operator's command; else accounts.permissions.user_may_issue_token decides.
    `not_after`: the expiry of the token the request came with (no token outlives its maker).
    """
    teams = list(dict.fromkeys(teams))
    _token_checks(name=name, teams=teams, expires_at=expires_at, not_after=not_after, now=timezone.now())
    if actor is not None:
        allowed, why_not = user_may_issue_token(actor, user, teams)
        if not allowed:
            raise PermissionDenied(why_not)
    token, key = ApiToken.issue(user=user, name=name, expires_at=expires_at, issued_by=actor)
    if teams:
        token.teams.set(teams)
    audit_record(
        actor=actor,
        action="token.issued",
        obj=token,
        data={
            "user": user.get_username(),
            "prefix": token.prefix,
            "name": token.name,
            "via": via,
            "scope": "service" if teams else "personal",
            "teams": sorted(team.name for team in teams),
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, key


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> bool:
    """Revoke a token for good (a revoked token is never valid again: issue a new one).
    False when it was already revoked. Its owner, an admin, or a team admin of a service
    token's teams may (accounts.permissions.user_may_revoke_token); `actor` None: a command."""
    if actor is not None and not user_may_revoke_token(actor, token):
        raise PermissionDenied("Only the token's owner or an admin revokes it.")
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        audit_record(
            actor=actor,
            action="token.revoked",
            obj=token,
            data={"user": token.user.get_username(), "prefix": token.prefix, "name": token.name},
        )
    return bool(revoked)
