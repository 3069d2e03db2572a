from datetime import UTC, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from governance.accounts.models import Team
from governance.accounts.services import token_issue
from governance.core.errors import DomainError


def _expiry(text: str) -> datetime:
    """`90d` (days from now), a date (that day's end, UTC) or an ISO 8601 date and time."""
    text = text.strip()
    if text[:-1].isdigit() and text.endswith("d"):
        return timezone.now() + timedelta(days=int(text[:-1]))
    try:
        day = parse_date(text)  # a plain date first: parse_datetime would read it as midnight
        moment = datetime.combine(day, time(23, 59, 59)) if day else parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--expires: {text!r} is neither N d (e.g. 90d), a date nor an ISO 8601 date and time")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


class Command(BaseCommand):
    help = (
        "Create an API token for USER. The token is printed alone on the last line, once. "
        "With --team (repeatable) it is a service token, limited to those teams' models, never "
        "deciding on promotions, and --expires is required."
    )

    def add_arguments(self, parser):
        parser.add_argument("user")
        parser.add_argument("--name", default="")
        parser.add_argument("--team", action="append", default=[], dest="teams", help="scope to this team (repeatable)")
        parser.add_argument("--expires", help="90d, 2027-03-31 or 2027-03-31T18:00:00Z (required with --team)")

    def handle(self, *args, user, name, teams, expires, **options):
        User = get_user_model()
        try:
            account = User.objects.get(**{User.USERNAME_FIELD: user})
        except User.DoesNotExist as exc:
            raise CommandError(f"no user {user!r}") from exc
        if not account.is_active:
            raise CommandError(f"user {user!r} is inactive")
        scope = []
        for team_name in teams:
            team = Team.objects.filter(name=team_name).first()
            if team is None:
                raise CommandError(f"no team {team_name!r}")
            scope.append(team)
        expires_at = _expiry(expires) if expires else None
        try:
            token, key = token_issue(
                actor=None, user=account, name=name, teams=scope, expires_at=expires_at, via="manage.py create_token"
            )
        except DomainError as exc:
            raise CommandError(exc.message.replace("expires_at:", "--expires:")) from exc
        kind = f"service token for {', '.join(t.name for t in scope)}" if scope else "token"
        until = f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
        self.stdout.write(f"{kind} for {account.get_username()}{until} (stored hashed; shown once):")
        self.stdout.write(key)
