"""grant_role and revoke_role: the same arguments, the same lookups, one verb apart."""

from django.core.management.base import BaseCommand, CommandError

from governance.accounts.roles import ROLE_NAMES
from governance.accounts.services import role_grant, role_revoke
from governance.core.errors import DomainError
from governance.registry.selectors import role_change_subjects


class RoleCommand(BaseCommand):
    grant: bool  # True: grant_role, False: revoke_role

    def add_arguments(self, parser):
        parser.add_argument("user")
        parser.add_argument("role", help="one of: " + ", ".join(ROLE_NAMES))
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--team")
        scope.add_argument("--model")

    def handle(self, *args, user, role, team, model, **options):
        if role not in ROLE_NAMES:
            raise CommandError(f"unknown role {role!r}; roles are: {', '.join(ROLE_NAMES)}")
        try:
            account, team_obj, model_obj = role_change_subjects(username=user, team=team or "", model=model or "")
        except DomainError as exc:
            raise CommandError(exc.message[0].lower() + exc.message[1:].rstrip(".")) from exc
        change = role_grant if self.grant else role_revoke
        change(actor=None, user=account, role=role, team=team_obj, model=model_obj)
        scope = f"team {team}" if team else f"model {model}"
        verb = "granted {role} to" if self.grant else "revoked {role} from"
        self.stdout.write(f"{verb.format(role=role)} {account.get_username()} on {scope}")
