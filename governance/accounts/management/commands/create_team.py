from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug

from governance.accounts.services import team_create


class Command(BaseCommand):
    help = "Create a team (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--display-name", default="")

    def handle(self, *args, name, display_name, **options):
        try:
            validate_slug(name)
        except ValidationError as exc:
            raise CommandError(f"team name {name!r}: use letters, digits, '-' or '_'") from exc
        team = team_create(actor=None, name=name, display_name=display_name)
        self.stdout.write(f"team {team.name}")
