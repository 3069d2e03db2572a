"""Reading models and versions as one user may see them: the web pages and the API share these."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from governance.accounts.models import Team
from governance.accounts.permissions import model_scope, user_may
from governance.accounts.roles import Action
from governance.core.errors import DomainError
from governance.core.vocabulary import OPEN_REQUEST_STATUSES
from governance.registry.models import ModelVersion, RegisteredModel, Stage


def models_visible_to(user, action: str = Action.VIEW) -> QuerySet[RegisteredModel]:
    """Models the user may see (or do `action` on): any role on the model or its team."""
    scope = model_scope(user, action)
    qs = RegisteredModel.objects.all()
    return qs if scope is None else qs.filter(scope)


def get_model_for_user(user, name: str, action: str = Action.VIEW) -> RegisteredModel:
    """404 when the user may not even see the model, 403 when they may see but not act."""
    model = models_visible_to(user).select_related("team").filter(name=name).first()
    if model is None:
        raise Http404("No such model.")
    if action != Action.VIEW and not user_may(user, action, model):
        raise PermissionDenied(f"You may not {action.replace('_', ' ')} on {model.name}.")
    return model


def models_for_list(
    user, *, team: str = "", risk_tier: str = "", stage: str = "", q: str = "", counts: bool = True
) -> QuerySet[RegisteredModel]:
    """The model list of the browser and the API: visible models, filtered, with their
    production version number and (`counts`: the browser's columns) their number of
    versions and open requests (one query)."""
    production = ModelVersion.objects.filter(model=OuterRef("pk"), stage=Stage.PRODUCTION).values("version")[:1]
    qs = models_visible_to(user).select_related("team").annotate(production_version_number=Subquery(production))
    if counts:
        qs = qs.annotate(
            version_count=Count("versions", distinct=True),
            open_requests=Count(
                "versions__promotion_requests",
                filter=Q(versions__promotion_requests__status__in=OPEN_REQUEST_STATUSES),
                distinct=True,
            ),
        )
    qs = qs.order_by("name")
    if team:
        qs = qs.filter(team__name=team)
    if risk_tier:
        qs = qs.filter(risk_tier=risk_tier)
    if stage:
        qs = qs.filter(pk__in=ModelVersion.objects.filter(stage=stage).values("model_id"))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return qs


def role_change_subjects(*, username: str, team: str = "", model: str = ""):
    """(user, team, model) named by a role change from the roles page or the API.

    Exactly one of team or model; a name that does not exist is a DomainError on its field.
    """
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    if user is None:
        raise DomainError(f"No user {username!r}.", field="user")
    if bool(team) == bool(model):
        raise DomainError("Give exactly one of a team or a model.", field="team")
    team_obj = Team.objects.filter(name=team).first() if team else None
    if team and team_obj is None:
        raise DomainError(f"No team {team!r}.", field="team")
    model_obj = RegisteredModel.objects.filter(name=model).first() if model else None
    if model and model_obj is None:
        raise DomainError(f"No model {model!r}.", field="model")
    return user, team_obj, model_obj
