"""The one place that answers "may user U do action A on object O".

Roles are guardian object permissions (`role_<name>`) granted on a Team (all its models)
or on one RegisteredModel, stored in guardian's direct-foreign-key tables
(TeamUserObjectPermission, ModelUserObjectPermission, both in accounts.models). Lists filter
with subqueries on those tables (`model_scope`), so a page costs a constant number of
queries whatever the number of rows.

Who may decide on a promotion request is one pure function, `decision_right`: the
promotion service, the inbox, the request page and the API all ask it.

Staff admins see everything and manage roles and policies, but they fill no approval
slot unless they hold the role like anybody else (separation of duties).

A request made with a service token (an API token scoped to teams, accounts.models.ApiToken)
carries the token's team ids on its user object (`token_scope_set`, by the API's
authentication): every answer below then covers those teams' models only, staff powers do
not pass to the token, and it never decides on a promotion (approvals need a person).

This module knows models only by their fields (`team_id`, `pk`, `name`): accounts sits
below registry in the package graph (docs/architecture.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from governance.accounts.models import ModelUserObjectPermission, TeamUserObjectPermission
from governance.accounts.roles import ACTION_ROLES, Action, Role, role_permission

if TYPE_CHECKING:
    from governance.accounts.models import Team
    from governance.registry.models import RegisteredModel

ROLE_PREFIX = role_permission("")


def _role_of(codename: str) -> str:
    return codename[len(ROLE_PREFIX) :]


def _is_active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


# --- Service tokens ----------------------------------------------------------------------

_TOKEN_SCOPE = "_token_team_ids"


def token_scope(user) -> frozenset[int] | None:
    """The team ids a service token limits this user object to; None when not scoped."""
    return getattr(user, _TOKEN_SCOPE, None)


def token_scope_set(user, team_ids: Iterable[int]) -> None:
    """Limit this user object (the one serving the request) to the token's teams."""
    setattr(user, _TOKEN_SCOPE, frozenset(team_ids))


def _outside_scope(user, team_id: int | None) -> bool:
    scope = token_scope(user)
    return scope is not None and team_id not in scope


def is_admin(user) -> bool:
    """Staff powers; never through a service token."""
    return _is_active(user) and bool(user.is_staff or user.is_superuser) and token_scope(user) is None


# --- Roles held --------------------------------------------------------------------------


def roles_for_model(user, model: RegisteredModel) -> set[str]:
    """Roles the user holds on this model, directly or through its team (one query)."""
    if not _is_active(user) or _outside_scope(user, model.team_id):
        return set()
    team_roles = TeamUserObjectPermission.objects.filter(
        user=user, content_object_id=model.team_id, permission__codename__startswith=ROLE_PREFIX
    ).values_list("permission__codename", flat=True)
    model_roles = ModelUserObjectPermission.objects.filter(
        user=user, content_object_id=model.pk, permission__codename__startswith=ROLE_PREFIX
    ).values_list("permission__codename", flat=True)
    return {_role_of(codename) for codename in team_roles.union(model_roles)}


def roles_by_user_and_model(
    user_ids: Iterable[int], models: Iterable[RegisteredModel]
) -> dict[tuple[int, int], set[str]]:
    """{(user id, model id): roles} for many users and models in two queries."""
    models = list(models)
    user_ids = list(set(user_ids))
    result: dict[tuple[int, int], set[str]] = defaultdict(set)
    if not models or not user_ids:
        return result
    by_team: dict[int, list[int]] = defaultdict(list)
    for model in models:
        by_team[model.team_id].append(model.pk)
    for user_id, team_id, codename in TeamUserObjectPermission.objects.filter(
        user_id__in=user_ids, content_object_id__in=list(by_team), permission__codename__startswith=ROLE_PREFIX
    ).values_list("user_id", "content_object_id", "permission__codename"):
        for model_id in by_team[team_id]:
            result[(user_id, model_id)].add(_role_of(codename))
    for user_id, model_id, codename in ModelUserObjectPermission.objects.filter(
        user_id__in=user_ids, content_object_id__in=[m.pk for m in models], permission__codename__startswith=ROLE_PREFIX
    ).values_list("user_id", "content_object_id", "permission__codename"):
        result[(user_id, model_id)].add(_role_of(codename))
    return result


def roles_for_model_with(user, model: RegisteredModel, others: Iterable[int]) -> tuple[set[str], dict]:
    """The user's roles on the model (what `roles_for_model` answers: none outside a service
    token's scope) and, in the same two queries, the roles of `others` (e.g. a request's
    approvers), as `roles_by_user_and_model` gives them. For a page that needs both once."""
    active = _is_active(user)
    held = roles_by_user_and_model(set(others) | ({user.pk} if active else set()), [model])
    if not active or _outside_scope(user, model.team_id):
        return set(), held
    return set(held.get((user.pk, model.pk), set())), held


def roles_by_model(user, models: Iterable[RegisteredModel]) -> dict[int, set[str]]:
    """Roles per model id for many models at once (two queries), for lists and the inbox."""
    if not _is_active(user):
        return defaultdict(set)
    held = roles_by_user_and_model([user.pk], models)
    result: dict[int, set[str]] = defaultdict(set)
    for (_, model_id), roles in held.items():
        result[model_id] = roles
    return result


def users_holding_roles(model: RegisteredModel, roles: Iterable[str]) -> set[int]:
    """Ids of the users who hold any of these roles on the model (through its team or itself)."""
    codenames = [role_permission(r) for r in roles]
    if not codenames:
        return set()
    team = TeamUserObjectPermission.objects.filter(content_object_id=model.team_id, permission__codename__in=codenames)
    own = ModelUserObjectPermission.objects.filter(content_object_id=model.pk, permission__codename__in=codenames)
    return set(team.values_list("user_id", flat=True)) | set(own.values_list("user_id", flat=True))


# --- Actions ---------------------------------------------------------------------------


def user_may(user, action: str, model: RegisteredModel, roles: set[str] | None = None) -> bool:
    if not _is_active(user):
        return False
    if is_admin(user) and action in (Action.VIEW, Action.EXPORT):
        return True
    if roles is None:
        roles = roles_for_model(user, model)
    return bool(roles & ACTION_ROLES[action])


def user_may_on_team(user, action: str, team: Team) -> bool:
    if is_admin(user):
        return True
    if not _is_active(user) or _outside_scope(user, team.pk):
        return False
    codenames = TeamUserObjectPermission.objects.filter(
        user=user, content_object=team, permission__codename__startswith=ROLE_PREFIX
    ).values_list("permission__codename", flat=True)
    return bool({_role_of(c) for c in codenames} & ACTION_ROLES[action])


def team_scope(user, action: str) -> Q | None:
    """A filter over Team for the teams where the user holds a role allowing `action` on the
    team itself (grants on one model do not count). None means every team (staff admins)."""
    if is_admin(user):
        return None
    if not _is_active(user):
        return Q(pk__in=[])
    codenames = [role_permission(r) for r in ACTION_ROLES[action]]
    granted = Q(
        pk__in=TeamUserObjectPermission.objects.filter(user=user, permission__codename__in=codenames).values(
            "content_object_id"
        )
    )
    scope = token_scope(user)  # a service token: its teams only
    return granted & Q(pk__in=sorted(scope)) if scope is not None else granted


def user_may_manage_roles(user) -> bool:
    return is_admin(user)


def user_may_manage_policies(user) -> bool:
    if token_scope(user) is not None:
        return False
    return is_admin(user) or (_is_active(user) and user.has_perm("policies.manage_policy"))


def model_scope(user, action: str = Action.VIEW) -> Q | None:
    """A filter over RegisteredModel for the models the user may do `action` on.

    None means every model (admins viewing or exporting); `Q(pk__in=[])` means none.
    Subqueries on the grant tables, so a list costs one query whatever its size.
    """
    if is_admin(user) and action in (Action.VIEW, Action.EXPORT):
        return None
    if not _is_active(user):
        return Q(pk__in=[])
    codenames = [role_permission(r) for r in ACTION_ROLES[action]]
    team_ids = TeamUserObjectPermission.objects.filter(user=user, permission__codename__in=codenames).values(
        "content_object_id"
    )
    model_ids = ModelUserObjectPermission.objects.filter(user=user, permission__codename__in=codenames).values(
        "content_object_id"
    )
    scope = token_scope(user)
    if scope is not None:
        return (Q(team_id__in=team_ids) | Q(pk__in=model_ids)) & Q(team_id__in=sorted(scope))
    return Q(team_id__in=team_ids) | Q(pk__in=model_ids)


def require(user, action: str, model: RegisteredModel, roles: set[str] | None = None) -> None:
    """For views: 404 when the user may not even see the model, 403 when they may not act.
    `roles`: the user's roles on the model when the caller already has them (`roles_for_model`)."""
    if roles is None and not is_admin(user):
        roles = roles_for_model(user, model)
    if not user_may(user, Action.VIEW, model, roles=roles):
        raise Http404("No such model.")
    if action != Action.VIEW and not user_may(user, action, model, roles=roles):
        raise PermissionDenied(f"You may not {action.replace('_', ' ')} on {model.name}.")


def ensure_may(user, action: str, model: RegisteredModel, doing: str) -> None:
    """For services: PermissionDenied unless the user may see the model and do the action.

    `doing` completes the sentence "... needs the model_owner or mlops role", e.g.
    "Uploading evidence for credit-scoring".
    """
    if not user_may(user, Action.VIEW, model):
        raise PermissionDenied("No such model.")
    if not user_may(user, action, model):
        roles = " or ".join(sorted(ACTION_ROLES[action]))
        raise PermissionDenied(f"{doing} needs the {roles} role.")


# --- Who may decide on a promotion request ------------------------------------------------


@dataclass(frozen=True)
class DecisionFacts:
    """Everything the decision rule needs, gathered by `approvals.selectors.decision_facts`."""

    user_id: int | None
    held_roles: frozenset[str]  # roles the user holds on the model now
    required_roles: tuple[str, ...]  # roles the request's approval slots need, in policy order
    open_roles: frozenset[str]  # roles with a slot nobody fills yet
    request_open: bool
    requested_by_id: int | None
    fills_a_slot: bool  # the user's approval already fills a slot of this request
    accepted_a_gate: bool = False  # the user accepted an inconclusive gate of this round (their sign-off)
    is_author: bool = False  # the user registered the version
    excluded_as: str = ""  # a group the policy bars from approving, e.g. "evidence uploader"
    by_service_token: bool = False  # asked through a service token (never decides)


@dataclass(frozen=True)
class DecisionRight:
    """The answer: may the user decide, in which roles, and if not, why (a sentence)."""

    approve_roles: tuple[str, ...]  # roles in which the user may approve now (an open slot)
    decide_roles: tuple[str, ...]  # roles in which the user may reject or request changes
    why_not: str = ""
    code: str = ""  # "forbidden", "invalid_state" or "duplicate" when refused

    @property
    def may_decide(self) -> bool:
        return bool(self.decide_roles)

    @property
    def may_approve(self) -> bool:
        return bool(self.approve_roles)

    def roles_for(self, decision: str) -> tuple[str, ...]:
        return self.approve_roles if decision == "approve" else self.decide_roles

    def refusal(self, decision: str, role: str | None = None) -> tuple[str, str, str | None] | None:
        """(code, message, field) when this decision in this role is refused, else None."""
        if not self.may_decide:
            return self.code, self.why_not, None
        if role is not None and role not in self.decide_roles:
            return "forbidden", f"You cannot decide as {role.replace('_', ' ')} on this request.", "role"
        if decision == "approve":
            if not self.approve_roles:
                return "duplicate", "Every slot you could fill is already filled.", "role"
            if role is not None and role not in self.approve_roles:
                return "duplicate", f"The {role.replace('_', ' ')} slots are already filled.", "role"
        return None

    def role_for(self, decision: str, role: str | None = None) -> str:
        """The role a decision is recorded in: the one asked for, else the first that applies."""
        return role or self.roles_for(decision)[0]


def decision_right(facts: DecisionFacts) -> DecisionRight:
    """Who may decide: pure, no database. The single rule for service, inbox, page and API.

    - Only an open request takes decisions, and never through a service token.
    - Separation of duties: the requester never decides on their own request, nor does the
      version's author, nor anyone in a group the policy excludes (e.g. evidence uploaders);
      one person fills at most one approval slot (their counted approval ends their part).
    - A decision needs a role the request requires that the user holds now, and that
      may decide at all (Action.DECIDE: not the read-only auditor).
    - Approving needs an open slot of such a role; rejecting or requesting changes does not.
    """
    if not facts.request_open:
        return DecisionRight((), (), "This request is closed; it takes no more decisions.", "invalid_state")
    if facts.by_service_token:
        return DecisionRight(
            (), (), "A service token cannot decide on a promotion; approvals need a person.", "forbidden"
        )
    if facts.user_id is not None and facts.user_id == facts.requested_by_id:
        return DecisionRight(
            (),
            (),
            "You requested this promotion; someone else must decide on it (separation of duties).",
            "forbidden",
        )
    if facts.is_author:
        return DecisionRight(
            (), (), "You registered this version; someone else must decide on it (separation of duties).", "forbidden"
        )
    if facts.excluded_as:
        return DecisionRight(
            (),
            (),
            f"The policy bars the {facts.excluded_as}s of this version from deciding (separation of duties).",
            "forbidden",
        )
    if facts.fills_a_slot:
        return DecisionRight(
            (), (), "You already approved this request; one person fills at most one slot.", "duplicate"
        )
    if facts.accepted_a_gate:
        return DecisionRight(
            (),
            (),
            "You accepted an inconclusive gate of this request; that is your sign-off (separation of duties).",
            "forbidden",
        )
    deciding = facts.held_roles & ACTION_ROLES[Action.DECIDE]
    entitled = tuple(dict.fromkeys(r for r in facts.required_roles if r in deciding))
    if not entitled:
        needed = ", ".join(dict.fromkeys(facts.required_roles)) or "none"
        return DecisionRight((), (), f"You hold none of the roles this request needs ({needed}).", "forbidden")
    approvable = tuple(r for r in entitled if r in facts.open_roles)
    return DecisionRight(approve_roles=approvable, decide_roles=entitled)


# --- Who may accept an inconclusive gate ---------------------------------------------------


@dataclass(frozen=True)
class AcceptanceFacts:
    """What the acceptance rule needs, gathered by `approvals.acceptances.gate_acceptance_right_for`."""

    user_id: int | None
    held_roles: frozenset[str]  # roles the user holds on the model now
    accept_by: str  # the role the gate's policy names (`on_inconclusive: {accept_by: ROLE}`), "" if it blocks
    gate_inconclusive: bool  # the gate's run of the current round ended inconclusive
    awaiting: bool  # the request waits for decisions (not closed, its gates not running again)
    accepted_by: str = ""  # who already accepted this run (an acceptance that counts)
    requested_by_id: int | None = None
    is_author: bool = False  # the user registered the version
    excluded_as: str = ""  # a group the policy bars from deciding, e.g. "evidence uploader"
    fills_a_slot: bool = False  # the user's approval fills a slot of this round
    by_service_token: bool = False


@dataclass(frozen=True)
class AcceptanceRight:
    may_accept: bool
    why_not: str = ""
    code: str = ""  # "invalid_state", "duplicate" or "forbidden" when refused


def gate_acceptance_right(facts: AcceptanceFacts) -> AcceptanceRight:
    """Who may accept an inconclusive gate: pure, no database (service, page, API, emails).

    - Only an inconclusive gate whose policy names a role (`accept_by`), while its request
      waits for decisions, and only once (a counted acceptance ends it).
    - Separation of duties, the rules of `decision_right`: never the requester, the version's
      author, a group the policy excludes, or a service token. An acceptance is its author's
      sign-off on the request: whoever fills an approval slot of this round does not accept
      (and whoever accepted fills no slot, `DecisionFacts.accepted_a_gate`).
    - The user holds the named role on the model now (and it is a role that may decide).
    """
    if not facts.gate_inconclusive:
        return AcceptanceRight(False, "Only an inconclusive gate outcome can be accepted.", "invalid_state")
    if not facts.accept_by:
        return AcceptanceRight(
            False,
            "The policy blocks the request on this inconclusive gate (on_inconclusive: block); nobody can accept it.",
            "invalid_state",
        )
    if not facts.awaiting:
        return AcceptanceRight(
            False, "This request does not wait for decisions now; nothing can be accepted.", "invalid_state"
        )
    if facts.accepted_by:
        return AcceptanceRight(False, f"{facts.accepted_by} already accepted this gate outcome.", "duplicate")
    role = facts.accept_by.replace("_", " ")
    if facts.by_service_token:
        return AcceptanceRight(False, "A service token cannot accept a gate; that needs a person.", "forbidden")
    if facts.user_id is not None and facts.user_id == facts.requested_by_id:
        return AcceptanceRight(
            False,
            "You requested this promotion; someone else must accept its gates (separation of duties).",
            "forbidden",
        )
    if facts.is_author:
        return AcceptanceRight(
            False,
            "You registered this version; someone else must accept its gates (separation of duties).",
            "forbidden",
        )
    if facts.excluded_as:
        return AcceptanceRight(
            False,
            f"The policy bars the {facts.excluded_as}s of this version from deciding (separation of duties).",
            "forbidden",
        )
    if facts.fills_a_slot:
        return AcceptanceRight(
            False,
            "You approved this request; one person signs off once, so someone else must accept its gates "
            "(separation of duties).",
            "forbidden",
        )
    if facts.accept_by not in facts.held_roles or facts.accept_by not in ACTION_ROLES[Action.DECIDE]:
        return AcceptanceRight(
            False, f"Only someone holding the {role} role on this model may accept this gate.", "forbidden"
        )
    return AcceptanceRight(True)


# --- The audit trail ---------------------------------------------------------------------


def audit_scope(user) -> Q | None:
    """A filter over AuditEvent for the events the user may read: those of models they may
    see, and policy publications (policies govern everyone). None: every event (admins)."""
    if is_admin(user):
        return None
    if not _is_active(user):
        return Q(pk__in=[])
    grants = {"user": user, "permission__codename__startswith": ROLE_PREFIX}
    scope = token_scope(user)
    team_grants = TeamUserObjectPermission.objects.filter(**grants)
    model_grants = ModelUserObjectPermission.objects.filter(**grants)
    if scope is not None:
        team_grants = team_grants.filter(content_object_id__in=sorted(scope))
        model_grants = model_grants.filter(content_object__team_id__in=sorted(scope))
    team_models = team_grants.values("content_object__models__name")
    own_models = model_grants.values("content_object__name")
    return Q(model_name__in=team_models) | Q(model_name__in=own_models) | Q(action__startswith="policy.")


# Who may run the whole-trail chain check from the audit page: admins, and compliance
# officers and auditors (the people the trail is for) wherever they hold the role. The check
# reads every event but shows only a verdict, a count, a sequence number and the head hash.
AUDIT_CHECK_ROLES = (Role.COMPLIANCE_OFFICER, Role.AUDITOR)


def user_may_verify_audit(user) -> bool:
    if is_admin(user):
        return True
    if not _is_active(user) or token_scope(user) is not None:
        return False
    codenames = [role_permission(role) for role in AUDIT_CHECK_ROLES]
    return (
        TeamUserObjectPermission.objects.filter(user=user, permission__codename__in=codenames).exists()
        or ModelUserObjectPermission.objects.filter(user=user, permission__codename__in=codenames).exists()
    )


# --- API tokens ------------------------------------------------------------------------


def user_may_issue_token(actor, owner, teams: Iterable[Team] = ()) -> tuple[bool, str]:
    """May `actor` issue a token acting as `owner`, scoped to `teams` (none: personal)?
    (allowed, why not). People issue their own tokens; staff admins issue anyone's; a service
    token issues none (it could otherwise mint a wider or longer-lived one)."""
    if not _is_active(actor):
        return False, "Sign in to issue tokens."
    if token_scope(actor) is not None:
        return False, "A service token cannot issue tokens."
    if owner.pk != actor.pk and not is_admin(actor):
        return False, "Only admins issue tokens for other people."
    for team in teams:
        if not user_may_on_team(actor, Action.ISSUE_SERVICE_TOKEN, team):
            roles = " or ".join(sorted(ACTION_ROLES[Action.ISSUE_SERVICE_TOKEN]))
            return (
                False,
                f"Service tokens for team {team.name} are issued by its admins (the {roles} role on the team).",
            )
    return True, ""


def user_may_revoke_token(actor, token) -> bool:
    """The token's owner, a staff admin, or a team admin of every team a service token is
    scoped to. Never through a service token."""
    if not _is_active(actor) or token_scope(actor) is not None:
        return False
    if token.user_id == actor.pk or is_admin(actor):
        return True
    teams = list(token.teams.all())
    return bool(teams) and all(user_may_on_team(actor, Action.ISSUE_SERVICE_TOKEN, team) for team in teams)
