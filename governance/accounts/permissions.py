"""The one place that answers "may user U do action A on object O".

Roles are guardian object permissions (`role_<name>`) granted on a Team (all its models)
or on one RegisteredModel, stored in guardian's direct-foreign-key tables
(TeamUserObjectPermission, ModelUserObjectPermission). Lists filter with subqueries on
those tables, so a page costs a constant number of queries whatever the number of rows.

Staff admins see everything and manage roles and policies, but they fill no approval
slot unless they hold the role like anybody else (separation of duties).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from governance.accounts.models import Team, TeamUserObjectPermission
from governance.accounts.roles import ACTION_ROLES, Action
from governance.registry.models import ModelUserObjectPermission, RegisteredModel

ROLE_PREFIX = "role_"


def _is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


def roles_for_model(user, model: RegisteredModel) -> set[str]:
    """Roles the user holds on this model, directly or through its team (one query)."""
    if not (user and user.is_authenticated and user.is_active):
        return set()
    team_roles = TeamUserObjectPermission.objects.filter(
        user=user, content_object_id=model.team_id, permission__codename__startswith=ROLE_PREFIX
    ).values_list("permission__codename", flat=True)
    model_roles = ModelUserObjectPermission.objects.filter(
        user=user, content_object_id=model.pk, permission__codename__startswith=ROLE_PREFIX
    ).values_list("permission__codename", flat=True)
    return {codename[len(ROLE_PREFIX) :] for codename in team_roles.union(model_roles)}


def roles_by_model(user, models: Iterable[RegisteredModel]) -> dict[int, set[str]]:
    """Roles per model id for many models at once (two queries), for lists and the inbox."""
    models = list(models)
    result: dict[int, set[str]] = defaultdict(set)
    if not models or not (user and user.is_authenticated and user.is_active):
        return result
    by_team: dict[int, list[int]] = defaultdict(list)
    for model in models:
        by_team[model.team_id].append(model.pk)
    for team_id, codename in TeamUserObjectPermission.objects.filter(
        user=user, content_object_id__in=list(by_team), permission__codename__startswith=ROLE_PREFIX
    ).values_list("content_object_id", "permission__codename"):
        for model_id in by_team[team_id]:
            result[model_id].add(codename[len(ROLE_PREFIX) :])
    for model_id, codename in ModelUserObjectPermission.objects.filter(
        user=user, content_object_id__in=[m.pk for m in models], permission__codename__startswith=ROLE_PREFIX
    ).values_list("content_object_id", "permission__codename"):
        result[model_id].add(codename[len(ROLE_PREFIX) :])
    return result


def user_holds_role(user, role: str, model: RegisteredModel) -> bool:
    return role in roles_for_model(user, model)


def user_may(user, action: str, model: RegisteredModel, roles: set[str] | None = None) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    if _is_admin(user) and action in (Action.VIEW, Action.EXPORT):
        return True
    if roles is None:
        roles = roles_for_model(user, model)
    return bool(roles & ACTION_ROLES[action])


def user_may_on_team(user, action: str, team: Team) -> bool:
    if _is_admin(user):
        return True
    if not (user and user.is_authenticated and user.is_active):
        return False
    codenames = TeamUserObjectPermission.objects.filter(
        user=user, content_object=team, permission__codename__startswith=ROLE_PREFIX
    ).values_list("permission__codename", flat=True)
    return bool({c[len(ROLE_PREFIX) :] for c in codenames} & ACTION_ROLES[action])


def user_may_manage_roles(user) -> bool:
    return _is_admin(user)


def user_may_manage_policies(user) -> bool:
    return _is_admin(user) or bool(user and user.is_authenticated and user.has_perm("policies.manage_policy"))


def models_visible_to(user) -> QuerySet[RegisteredModel]:
    """Models the user may see: any role on the model or on its team; admins see all."""
    qs = RegisteredModel.objects.all()
    if _is_admin(user):
        return qs
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    team_ids = TeamUserObjectPermission.objects.filter(user=user, permission__codename__startswith=ROLE_PREFIX).values(
        "content_object_id"
    )
    model_ids = ModelUserObjectPermission.objects.filter(
        user=user, permission__codename__startswith=ROLE_PREFIX
    ).values("content_object_id")
    return qs.filter(Q(team_id__in=team_ids) | Q(pk__in=model_ids))


def get_model_for_user(user, name: str, action: str = Action.VIEW) -> RegisteredModel:
    """404 when the user may not even see the model, 403 when they may see but not act."""
    model = models_visible_to(user).select_related("team").filter(name=name).first()
    if model is None:
        raise Http404("No such model.")
    if action != Action.VIEW and not user_may(user, action, model):
        raise PermissionDenied(f"You may not {action.replace('_', ' ')} on {model.name}.")
    return model


def require(user, action: str, model: RegisteredModel) -> None:
    """Raise 404/403 unless the user may do the action on the model."""
    if not user_may(user, Action.VIEW, model):
        raise Http404("No such model.")
    if action != Action.VIEW and not user_may(user, action, model):
        raise PermissionDenied(f"You may not {action.replace('_', ' ')} on {model.name}.")


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
            result[(user_id, model_id)].add(codename[len(ROLE_PREFIX) :])
    for user_id, model_id, codename in ModelUserObjectPermission.objects.filter(
        user_id__in=user_ids, content_object_id__in=[m.pk for m in models], permission__codename__startswith=ROLE_PREFIX
    ).values_list("user_id", "content_object_id", "permission__codename"):
        result[(user_id, model_id)].add(codename[len(ROLE_PREFIX) :])
    return result


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
