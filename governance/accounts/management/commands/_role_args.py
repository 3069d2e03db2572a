"""Shared argument handling of grant_role and revoke_role."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from governance.accounts.models import Team
from governance.accounts.roles import ROLE_NAMES
from governance.registry.models import RegisteredModel


def add_role_arguments(parser) -> None:
    parser.add_argument("user")
    parser.add_argument("role", help="one of: " + ", ".join(ROLE_NAMES))
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--team")
    scope.add_argument("--model")


def resolve_role_arguments(options) -> dict:
    User = get_user_model()
    try:
        user = User.objects.get(**{User.USERNAME_FIELD: options["user"]})
    except User.DoesNotExist as exc:
        raise CommandError(f"no user {options['user']!r}") from exc
    if options["role"] not in ROLE_NAMES:
        raise CommandError(f"unknown role {options['role']!r}; roles are: {', '.join(ROLE_NAMES)}")
    team = model = None
    if options.get("team"):
        team = Team.objects.filter(name=options["team"]).first()
        if team is None:
            raise CommandError(f"no team {options['team']!r}")
    else:
        model = RegisteredModel.objects.filter(name=options["model"]).first()
        if model is None:
            raise CommandError(f"no model {options['model']!r}")
    return {"user": user, "role": options["role"], "team": team, "model": model}
